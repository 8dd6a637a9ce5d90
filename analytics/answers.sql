-- The same answers as answers.py, in SQL over the file store's NDJSON (data/events/dt=…/hour=…/*.ndjson.gz),
-- for DuckDB: a user without Cassandra and Spark gets them too. duckdb_answers.py runs each named query
-- (a `-- name:` line starts one) after setting $dir and $app; they read the view `ev`, made first.
-- Days are client-time days (UTC).

-- name: setup
SET TimeZone = 'UTC';
CREATE OR REPLACE TEMP VIEW ev AS
SELECT * FROM read_ndjson(getvariable('dir') || '/**/*.ndjson.gz', hive_partitioning = true, union_by_name = true,
  columns = {event_id: 'VARCHAR', endpoint: 'VARCHAR', user_agent: 'VARCHAR', visitor_id: 'VARCHAR', session_id: 'VARCHAR',
             event_name: 'VARCHAR', client_time: 'TIMESTAMPTZ', client_index: 'BIGINT', referrer: 'VARCHAR', page_type: 'VARCHAR',
             app: 'VARCHAR', source: 'VARCHAR', medium: 'VARCHAR', campaign: 'VARCHAR', content: 'VARCHAR',
             experiment_id: 'VARCHAR', variant: 'VARCHAR', props: 'JSON', canary: 'BOOLEAN'})
-- The canary's events (spoor canary) are no one's answers.
WHERE app = getvariable('app') AND canary IS NOT TRUE;
-- A visitor whose browser events came with a bot's user agent is a bot (stats.py BOT_PATTERN).
CREATE OR REPLACE TEMP TABLE bots AS
SELECT DISTINCT visitor_id FROM ev WHERE endpoint = 'tr' AND regexp_matches(user_agent, '(bot|crawl|spider|headless)', 'i');
CREATE OR REPLACE TEMP VIEW humans AS SELECT * FROM ev WHERE visitor_id IS NULL OR visitor_id NOT IN (SELECT visitor_id FROM bots);

-- name: setup_parquet
-- The same view over the Parquet destination's files (dir/dt=…/hour=…/*.parquet; docs/destinations.md):
-- the same columns, the props stored as a JSON string.
SET TimeZone = 'UTC';
CREATE OR REPLACE TEMP VIEW ev AS
SELECT event_id, endpoint, user_agent, visitor_id, session_id, user_id, event_name, CAST(client_time AS TIMESTAMPTZ) AS client_time,
       client_index, referrer, page_type, app, source, medium, campaign, content, experiment_id, variant, CAST(props AS JSON) AS props
FROM read_parquet(getvariable('dir') || '/**/*.parquet', hive_partitioning = true)
WHERE app = getvariable('app');
CREATE OR REPLACE TEMP TABLE bots AS
SELECT DISTINCT visitor_id FROM ev WHERE endpoint = 'tr' AND regexp_matches(user_agent, '(bot|crawl|spider|headless)', 'i');
CREATE OR REPLACE TEMP VIEW humans AS SELECT * FROM ev WHERE visitor_id IS NULL OR visitor_id NOT IN (SELECT visitor_id FROM bots);

-- name: events_by_name
SELECT event_name AS k, count(*) AS v FROM ev GROUP BY 1;

-- name: human_events
SELECT count(*) AS v FROM humans;

-- name: orders_by_day
SELECT strftime(client_time, '%Y-%m-%d') AS k, count(*) AS v FROM humans WHERE event_name = 'purchase' GROUP BY 1;

-- name: revenue_cents_by_day
SELECT strftime(client_time, '%Y-%m-%d') AS k, props->>'$.currency' AS k2,
       sum(CAST(round(CAST(props->>'$.total' AS DOUBLE) * 100) AS BIGINT)) AS v
FROM humans WHERE event_name = 'purchase' GROUP BY 1, 2;

-- name: items_sold_by_day
SELECT strftime(client_time, '%Y-%m-%d') AS k, sum(CAST(i->>'$.qty' AS BIGINT)) AS v
FROM (SELECT client_time, unnest(CAST(props->'$.items' AS JSON[])) AS i FROM humans WHERE event_name = 'purchase') GROUP BY 1;

-- name: products_bought
SELECT i->>'$.product' AS k, sum(CAST(i->>'$.qty' AS BIGINT)) AS v
FROM (SELECT unnest(CAST(props->'$.items' AS JSON[])) AS i FROM humans WHERE event_name = 'purchase') GROUP BY 1;

-- name: clicks
SELECT props->>'$.element' AS k, count(*) AS v FROM humans WHERE event_name = 'click' GROUP BY 1;

-- name: sessions_by_source
WITH s AS (
  SELECT session_id, source, medium, campaign, referrer,
         row_number() OVER (PARTITION BY session_id ORDER BY client_time, client_index) AS rn
  FROM humans WHERE session_id IS NOT NULL),
landing AS (
  SELECT session_id,
         CASE WHEN source IS NOT NULL THEN concat_ws('/', source, medium, campaign)
              WHEN regexp_extract(referrer, '^https?://(www\.)?([^/:]+)', 2) NOT IN ('', 'shop.example')
                THEN 'referral/' || regexp_extract(referrer, '^https?://(www\.)?([^/:]+)', 2)
              ELSE 'direct' END AS src
  FROM s WHERE rn = 1),
bought AS (SELECT DISTINCT session_id FROM humans WHERE event_name = 'purchase')
SELECT src AS k, count(*) AS v, count(b.session_id) AS v2 FROM landing l LEFT JOIN bought b USING (session_id) GROUP BY 1;

-- name: experiment
WITH arms AS (
  SELECT DISTINCT visitor_id, variant FROM humans
  WHERE experiment_id = 'checkout_v2' AND event_name IN ('experiment_view', 'purchase')),
buyers AS (SELECT DISTINCT visitor_id FROM humans WHERE experiment_id = 'checkout_v2' AND event_name = 'purchase')
SELECT variant AS k, count(*) AS v, count(b.visitor_id) AS v2 FROM arms a LEFT JOIN buyers b USING (visitor_id) GROUP BY 1;

-- name: first_field
WITH f AS (
  SELECT props->>'$.field' AS field,
         row_number() OVER (PARTITION BY session_id ORDER BY client_time, client_index) AS rn
  FROM humans WHERE event_name = 'form_focus' AND props->>'$.form' = 'checkout')
SELECT field AS k, count(*) AS v FROM f WHERE rn = 1 GROUP BY 1;

-- name: abandon_field
SELECT props->>'$.field' AS k, count(*) AS v FROM humans
WHERE event_name = 'form_abandon' AND props->>'$.form' = 'checkout' GROUP BY 1;

-- name: loss
WITH b AS (
  SELECT strftime(client_time, '%Y-%m-%d') AS day,
         client_index - coalesce(lag(client_index) OVER (PARTITION BY visitor_id ORDER BY client_index), 0) - 1 AS gap
  FROM ev WHERE endpoint = 'tr' AND client_index IS NOT NULL)
SELECT day AS k, sum(gap) AS v, sum(gap + 1) AS v2 FROM b GROUP BY 1;

-- name: email
SELECT event_name AS k, content AS k2, count(*) AS v FROM ev WHERE event_name IN ('email_open', 'link_click') GROUP BY 1, 2;

-- name: identity
-- The identity links (data/identity, next to data/events): people who signed up, and every event of
-- their browsers, before and after sign-up.
WITH links AS (
  SELECT DISTINCT visitor_id, user_id FROM read_ndjson(getvariable('dir') || '/../identity/**/*.ndjson.gz',
    columns = {app: 'VARCHAR', visitor_id: 'VARCHAR', user_id: 'VARCHAR'}) WHERE app = getvariable('app'))
SELECT (SELECT count(DISTINCT user_id) FROM links) AS people,
       (SELECT count(*) FROM ev WHERE visitor_id IN (SELECT visitor_id FROM links)) AS events;

-- name: identity_parquet
-- Without the file store's identity files: the links are what the sink derives them from, every event
-- that carries a visitor and a user (an identify among them).
WITH links AS (SELECT DISTINCT visitor_id, user_id FROM ev WHERE visitor_id IS NOT NULL AND user_id IS NOT NULL)
SELECT (SELECT count(DISTINCT user_id) FROM links) AS people,
       (SELECT count(*) FROM ev WHERE visitor_id IN (SELECT visitor_id FROM links)) AS events;
