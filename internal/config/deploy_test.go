package config

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// composeFile is what the test reads of docker-compose.yml.
type composeFile struct {
	Services map[string]struct {
		Image       string            `yaml:"image"`
		Build       any               `yaml:"build"`
		Command     []string          `yaml:"command"`
		Environment map[string]string `yaml:"environment"`
		Ports       []string          `yaml:"ports"`
		DependsOn   map[string]struct {
			Condition string `yaml:"condition"`
		} `yaml:"depends_on"`
		Healthcheck *struct {
			Test []string `yaml:"test"`
		} `yaml:"healthcheck"`
	} `yaml:"services"`
}

// The deployment files must say what the code reads: every SPOOR_* variable
// in docker-compose.yml and the Dockerfile is a configuration key listed in
// docs/config.md, the values pass Validate, the published ports reach the
// address the image listens on, images are pinned, and the services wait
// for what they need (sinks for the schema job, never collectors for Cassandra).
func TestComposeMatchesTheConfiguration(t *testing.T) {
	raw, err := os.ReadFile("../../docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	var cf composeFile
	if err := yaml.Unmarshal(raw, &cf); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	docs, err := os.ReadFile("../../docs/config.md")
	if err != nil {
		t.Fatal(err)
	}
	dockerfile, err := os.ReadFile("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	envOf := map[string]string{} // SPOOR_X_Y -> x.y
	for key := range Keys() {
		envOf["SPOOR_"+strings.ToUpper(strings.ReplaceAll(key, ".", "_"))] = key
	}
	for _, name := range []string{"nats1", "nats2", "nats3", "cassandra1", "cassandra2", "cassandra3", "schema",
		"collector1", "collector2", "sink1", "sink2"} {
		if _, ok := cf.Services[name]; !ok {
			t.Errorf("service %s is missing", name)
		}
	}
	pinned := regexp.MustCompile(`^[a-z0-9./-]+:[0-9][0-9A-Za-z.-]*$`)
	for name, s := range cf.Services {
		if s.Image != "spoor:local" && !pinned.MatchString(s.Image) {
			t.Errorf("%s: image %q is not pinned to a version", name, s.Image)
		}
		for env, val := range s.Environment {
			if !strings.HasPrefix(env, "SPOOR_") {
				continue
			}
			if _, ok := envOf[env]; !ok {
				t.Errorf("%s: %s is not a configuration key", name, env)
			}
			if !strings.Contains(string(docs), "`"+env+"`") {
				t.Errorf("%s: %s is not in docs/config.md", name, env)
			}
			if strings.HasPrefix(val, "${") {
				val = "x" // interpolated by compose
			}
			t.Setenv(env, val)
		}
		if s.Image == "spoor:local" {
			if _, err := Load("../../config.json"); err != nil {
				t.Errorf("%s: its environment does not load: %v", name, err)
			}
			for env := range s.Environment {
				os.Unsetenv(env)
			}
		}
	}
	listen := regexp.MustCompile(`SPOOR_HTTP_ADDR=\S*:(\d+)`).FindSubmatch(dockerfile)
	if listen == nil {
		t.Fatal("the Dockerfile sets no SPOOR_HTTP_ADDR")
	}
	for _, env := range regexp.MustCompile(`SPOOR_[A-Z_]+`).FindAll(dockerfile, -1) {
		if _, ok := envOf[string(env)]; !ok {
			t.Errorf("Dockerfile: %s is not a configuration key", env)
		}
	}
	for _, name := range []string{"collector1", "collector2"} {
		s := cf.Services[name]
		if len(s.Ports) != 1 || !strings.HasSuffix(s.Ports[0], ":"+string(listen[1])) {
			t.Errorf("%s publishes %v; the image listens on %s", name, s.Ports, listen[1])
		}
		if s.Healthcheck == nil || !strings.Contains(strings.Join(s.Healthcheck.Test, " "), "/readyz") {
			t.Errorf("%s: no health check on /readyz", name)
		}
		for dep := range s.DependsOn {
			if strings.HasPrefix(dep, "cassandra") || dep == "schema" {
				t.Errorf("%s waits on %s: a collector must never wait on the store", name, dep)
			}
		}
	}
	for _, name := range []string{"sink1", "sink2"} {
		if c := cf.Services[name].DependsOn["schema"].Condition; c != "service_completed_successfully" {
			t.Errorf("%s: depends on schema with %q, want service_completed_successfully", name, c)
		}
	}
	if got := strings.Join(cf.Services["schema"].Command, " "); got != "schema apply" {
		t.Errorf("the schema job runs %q", got)
	}
	if r := cf.Services["sink1"].Environment["SPOOR_NATS_REPLICAS"]; r != "3" {
		t.Errorf("streams at R%s, want R3 on three NATS nodes", r)
	}
}
