package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/spoor-dev/spoor/app"
	"github.com/spoor-dev/spoor/internal/cassandratest"
	"github.com/spoor-dev/spoor/sinks"
)

// spoorCLI runs the spoor binary against the test's Cassandra keyspace.
func spoorCLI(t *testing.T, ks string, args ...string) string {
	t.Helper()
	return spoorCLIEnv(t, []string{"SPOOR_CASSANDRA_HOSTS=" + strings.Join(cassandratest.Hosts(), ","),
		"SPOOR_CASSANDRA_KEYSPACE=" + ks, "SPOOR_DATA_DIR=" + t.TempDir()}, args...)
}

func spoorCLIEnv(t *testing.T, env []string, args ...string) string {
	t.Helper()
	code, out, errs := spoorCLIExit(t, env, args...)
	if code != 0 {
		t.Fatalf("spoor %v: exit %d\n%s%s", args, code, out, errs)
	}
	return out
}

// A person across sign-up, seen with `spoor person`, then forgotten with
// `spoor forget` while more of their events wait in JetStream (the sink
// stopped): those are dropped on arrival, a bystander's are stored.
func TestPersonAndForgetWithEventsInFlight(t *testing.T) {
	s := cassandratest.Session(t)
	ks := cassandratest.Keyspace(t, s)
	dir := t.TempDir()
	cfg := cassandraConfig(t, dir, ks)
	// Browser events on /tr/v1/; server-side ones (a user id, no cookie) on
	// /str/v1/, where the collector mints no visitor id.
	post := func(base, body string) {
		t.Helper()
		path := "/tr/v1/"
		if !strings.Contains(body, `"vid"`) {
			path = "/str/v1/"
		}
		if r := do(t, "POST", base+path, []byte(body), nil); r.status != 200 {
			t.Fatalf("status %d: %s", r.status, r.body)
		}
	}
	a := start(t, cfg)
	base := "http://" + a.Addr()
	post(base, `{"app":"shop","ename":"anon_view","vid":"v1","url":"https://shop.example/"}`)
	post(base, `{"app":"shop","ename":"identify","vid":"v1","uid":"u1","props":{"plan":"pro"}}`)
	post(base, `{"app":"shop","ename":"purchase","uid":"u1","props":{"total":12.5}}`)
	post(base, `{"app":"shop","ename":"bystander","vid":"v5","uid":"u5"}`)
	waitRows(t, ks, 4, 30*time.Second)
	a.Stop()

	out := spoorCLI(t, ks, "person", "--app", "shop", "--uid", "u1")
	for _, want := range []string{"v1       u1    identify", "plan", `"pro"`, "purchase", "identify", "anon_view"} {
		if !strings.Contains(out, want) {
			t.Fatalf("spoor person lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "bystander") {
		t.Fatalf("spoor person shows someone else:\n%s", out)
	}

	// The sink is down: these wait in JetStream.
	c := startRoles(t, cfg, app.Roles{Collector: true})
	base = "http://" + c.Addr()
	post(base, `{"app":"shop","ename":"late_view","vid":"v1"}`)
	post(base, `{"app":"shop","ename":"late_server","uid":"u1"}`)
	post(base, `{"app":"shop","ename":"bystander_late","vid":"v5"}`)
	c.Stop()

	out = spoorCLI(t, ks, "forget", "--app", "shop", "--uid", "u1", "--by", "dpo@shop.example",
		"--grace", (sinks.ForgottenRefresh + 200*time.Millisecond).String())
	for _, want := range []string{"forgot user:u1, visitor:v1", "events_by_day", "user_traits"} {
		if !strings.Contains(out, want) {
			t.Fatalf("spoor forget lacks %q:\n%s", want, out)
		}
	}

	a = start(t, cfg)
	defer a.Stop()
	evs := waitRows(t, ks, 2, 30*time.Second) // the two bystander events
	for _, e := range evs {
		if e.VisitorID != "v5" {
			t.Fatalf("after forget, events_by_day holds %s of %s/%s", e.EventName, e.VisitorID, e.UserID)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		m := do(t, "GET", "http://"+a.Addr()+"/metrics", nil, nil)
		if metricIs(m.body, "spoor_sink_forgotten_events_total", 2) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the two late events must be counted as dropped:\n%s", grep(m.body, "forgotten"))
		}
		time.Sleep(100 * time.Millisecond)
	}
	var n int
	if err := s.Query(fmt.Sprintf("SELECT count(*) FROM %s.visitor_events WHERE app = 'shop' AND visitor_id = 'v1' ALLOW FILTERING", ks)).
		WithContext(context.Background()).Scan(&n); err != nil || n != 0 {
		t.Fatalf("v1 has %d rows left (%v)", n, err)
	}
	if out := spoorCLI(t, ks, "forget", "--app", "shop", "--uid", "u1", "--grace", "0s"); !strings.Contains(out, "no-op") {
		t.Fatalf("a repeat must be a no-op:\n%s", out)
	}
}

// forgetDone polls a forget request's status URL until it is done.
func forgetDone(t *testing.T, base, status string, auth map[string]string) response {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		r := do(t, "GET", base+status, nil, auth)
		if bytes.Contains(r.body, []byte(`"status":"done"`)) {
			return r
		}
		if r.status != 200 || bytes.Contains(r.body, []byte(`"failed"`)) || time.Now().After(deadline) {
			t.Fatalf("status: %d %s", r.status, r.body)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func grep(b []byte, s string) string {
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.Contains(l, s) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// The admin API forgets in the background: 401 without the token, 202 and
// a status URL with it, then the report; the request is in forget_log.
func TestForgetAdminAPI(t *testing.T) {
	s := cassandratest.Session(t)
	ks := cassandratest.Keyspace(t, s)
	cfg := cassandraConfig(t, t.TempDir(), ks)
	cfg.Admin.Tokens = []string{"admin-token-0123456789"}
	cfg.Sink.WriteTimeout, cfg.Sink.AckWait = 2*time.Second, 4*time.Second
	a := start(t, cfg)
	defer a.Stop()
	base := "http://" + a.Addr()
	for _, b := range []string{`{"app":"blog","ename":"read","vid":"v7"}`, `{"app":"blog","ename":"read","vid":"v8"}`} {
		if r := do(t, "POST", base+"/tr/v1/", []byte(b), nil); r.status != 200 {
			t.Fatalf("%d %s", r.status, r.body)
		}
	}
	waitRows(t, ks, 2, 30*time.Second)
	body := []byte(`{"app":"blog","vid":"v7","by":"ticket 42"}`)
	if r := do(t, "POST", base+"/admin/api/forget", body, nil); r.status != 401 {
		t.Fatalf("without a token: %d", r.status)
	}
	auth := map[string]string{"Authorization": "Bearer admin-token-0123456789"}
	if r := do(t, "POST", base+"/admin/api/forget", []byte(`{"app":"blog"}`), auth); r.status != 400 || reason(t, r) != "missing_id" {
		t.Fatalf("no id: %d %s", r.status, r.body)
	}
	r := do(t, "POST", base+"/admin/api/forget", body, auth)
	if r.status != 202 {
		t.Fatalf("forget: %d %s", r.status, r.body)
	}
	r = forgetDone(t, base, r.header.Get("Location"), auth)
	if !bytes.Contains(r.body, []byte(`"events_by_day":1`)) || !bytes.Contains(r.body, []byte(`"visitor:v7"`)) {
		t.Fatalf("report: %s", r.body)
	}
	evs := waitRows(t, ks, 1, 5*time.Second)
	if evs[0].VisitorID != "v8" {
		t.Fatalf("left %s", evs[0].VisitorID)
	}
	var by string
	if err := s.Query(fmt.Sprintf("SELECT requested_by FROM %s.forget_log WHERE app = 'blog'", ks)).Scan(&by); err != nil ||
		!strings.HasPrefix(by, "admin-api token ") || !strings.HasSuffix(by, " for ticket 42") || strings.Contains(by, "0123456789") {
		t.Fatalf("forget_log requested_by %q (%v)", by, err)
	}
}

// On the embedded default (the file store): `spoor person` reads the
// identity and event files of a running `spoor run`, and the admin API
// forgets a person by rewriting the files.
func TestPersonAndForgetInTheFileStore(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(dir)
	cfg.Admin.Tokens = []string{"admin-token-0123456789"}
	a := start(t, cfg)
	defer a.Stop()
	base := "http://" + a.Addr()
	for _, b := range []string{
		`{"app":"shop","ename":"anon_view","vid":"v1"}`,
		`{"app":"shop","ename":"identify","vid":"v1","uid":"u1","props":{"plan":"pro"}}`,
		`{"app":"shop","ename":"bystander","vid":"v5"}`,
	} {
		if r := do(t, "POST", base+"/tr/v1/", []byte(b), nil); r.status != 200 {
			t.Fatalf("%d %s", r.status, r.body)
		}
	}
	if r := do(t, "POST", base+"/str/v1/", []byte(`{"app":"shop","ename":"purchase","uid":"u1"}`), nil); r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	waitStored(t, dir, 4, 10*time.Second)
	out := spoorCLIEnv(t, []string{"SPOOR_DATA_DIR=" + dir}, "person", "--app", "shop", "--vid", "v1")
	for _, want := range []string{"v1       u1    identify", `plan   "pro"`, "purchase", "anon_view"} {
		if !strings.Contains(out, want) {
			t.Fatalf("spoor person lacks %q:\n%s", want, out)
		}
	}
	auth := map[string]string{"Authorization": "Bearer admin-token-0123456789"}
	r := do(t, "POST", base+"/admin/api/forget", []byte(`{"app":"shop","vid":"v1"}`), auth)
	if r.status != 202 {
		t.Fatalf("forget: %d %s", r.status, r.body)
	}
	r = forgetDone(t, base, r.header.Get("Location"), auth)
	if !bytes.Contains(r.body, []byte(`"events":3`)) {
		t.Fatalf("report: %s", r.body)
	}
	evs := waitStored(t, dir, 1, 5*time.Second)
	if evs[0].EventName != "bystander" {
		t.Fatalf("left: %s", evs[0].EventName)
	}
	if out := spoorCLIEnv(t, []string{"SPOOR_DATA_DIR=" + dir}, "person", "--app", "shop", "--uid", "u1"); strings.Contains(out, "purchase") {
		t.Fatalf("spoor person still finds them:\n%s", out)
	}
}

// spoorCLIExit runs the spoor binary and returns its exit code, stdout and
// stderr, whatever the code.
func spoorCLIExit(t *testing.T, env []string, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(spoorBinary(t), append([]string{"-config", "../config.json"}, args...)...)
	cmd.Env = append(cmd.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("spoor %v: %v", args, err)
	}
	return cmd.ProcessState.ExitCode(), out.String(), errb.String()
}

// A person whose events came through a Segment write key mapped to app
// "shop": `spoor person --uid` finds them without --app, an identify's
// messageId is no trait, and a wrong --app says where the id is.
func TestPersonWithoutApp(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(dir)
	cfg.Segment.WriteKeys = map[string]string{writeKey: segmentApp}
	a := start(t, cfg)
	defer a.Stop()
	base := "http://" + a.Addr()
	for _, b := range []string{
		`{"type":"identify","userId":"u-seg","anonymousId":"a-seg","messageId":"ajs-next-1","traits":{"plan":"pro"}}`,
		`{"type":"track","userId":"u-seg","event":"Order Completed","messageId":"ajs-next-2"}`,
	} {
		if r := do(t, "POST", base+"/v1/batch", []byte(`{"batch":[`+b+`]}`), basic(writeKey)); r.status != 200 {
			t.Fatalf("%d %s", r.status, r.body)
		}
	}
	waitStored(t, dir, 2, 10*time.Second)
	env := []string{"SPOOR_DATA_DIR=" + dir}
	code, out, errs := spoorCLIExit(t, env, "person", "--uid", "u-seg")
	if code != 0 {
		t.Fatalf("exit %d: %s%s", code, out, errs)
	}
	for _, want := range []string{`app "shop": 1 user id(s), 1 visitor id(s)`, "Order Completed", "identify", `plan   "pro"`} {
		if !strings.Contains(out, want) {
			t.Fatalf("spoor person --uid (no --app) lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "message_id") {
		t.Fatalf("a message's own messageId shown as a trait:\n%s", out)
	}
	code, out, errs = spoorCLIExit(t, env, "person", "--app", "blog", "--uid", "u-seg")
	if code != 1 || !strings.Contains(errs, `app "shop"`) || strings.Contains(out, "Order Completed") {
		t.Fatalf("a wrong --app: exit %d, stdout %q, stderr %q; want 1 and where the id is", code, out, errs)
	}
	code, _, errs = spoorCLIExit(t, env, "person", "--uid", "nobody")
	if code != 1 || !strings.Contains(errs, "no app has user nobody") {
		t.Fatalf("an unknown id: exit %d, stderr %q", code, errs)
	}
}
