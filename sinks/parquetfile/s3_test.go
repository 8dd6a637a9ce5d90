package parquetfile

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	pq "github.com/parquet-go/parquet-go"
	"github.com/spoor-dev/spoor/schema"
)

// versitygw starts a real S3-compatible server (versitygw, Apache-2.0, built
// from its Go module into .cache/bin by make test) over a directory, and
// returns its address; the server stops with the test. Under CI=true a
// missing binary fails the test.
func versitygw(t *testing.T, dir string) string {
	t.Helper()
	bin := os.Getenv("VERSITYGW")
	if bin == "" {
		bin = filepath.Join("..", "..", ".cache", "bin", "versitygw")
	}
	if _, err := os.Stat(bin); err != nil {
		msg := "no versitygw (make test builds it: go install github.com/versity/versitygw/cmd/versitygw@v1.8.0 into .cache/bin)"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(bin, "--port", addr, "posix", "--sidecar", filepath.Join(dir, "meta"), filepath.Join(dir, "data"))
	for _, d := range []string{"meta", "data"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o750); err != nil {
			t.Fatal(err)
		}
	}
	cmd.Env = append(os.Environ(), "ROOT_ACCESS_KEY=spoor-test", "ROOT_SECRET_KEY=spoor-test-secret")
	out, err := os.Create(filepath.Join(dir, "versitygw.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _, _ = cmd.Process.Wait(); out.Close() })
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return addr
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(filepath.Join(dir, "versitygw.log"))
			t.Fatalf("versitygw did not answer on %s:\n%s", addr, b)
		}
	}
}

func s3Client(t *testing.T, addr string) *minio.Client {
	t.Helper()
	c, err := minio.New(addr, &minio.Options{Creds: credentials.NewStaticV4("spoor-test", "spoor-test-secret", ""), Secure: false})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Finished files move to the bucket under the prefix, in the same Hive
// layout, and leave the local directory; a file whose upload failed (the
// server down) stays until the next start uploads it.
func TestUploadToS3(t *testing.T) {
	gw := t.TempDir()
	addr := versitygw(t, gw)
	c := s3Client(t, addr)
	ctx := context.Background()
	if err := c.MakeBucket(ctx, "lake", minio.MakeBucketOptions{}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	s3 := map[string]any{"endpoint": addr, "bucket": "lake", "prefix": "spoor/events", "access_key": "spoor-test",
		"secret_key": "spoor-test-secret", "insecure": true}
	f := newFiles(t, dir, map[string]any{"s3": s3})
	if err := f.Open(ctx); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 12, 1, 10, 30, 0, 0, time.UTC)
	evs := []*schema.Event{event(schema.NewEventID(), "v1", at), event(schema.NewEventID(), "v2", at)}
	if err := f.Write(ctx, evs); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	keys := objects(t, c, "lake")
	if len(keys) != 1 || !strings.HasPrefix(keys[0], "spoor/events/dt=2026-12-01/hour=10/part-") || !strings.HasSuffix(keys[0], ".parquet") {
		t.Fatalf("objects: %v", keys)
	}
	if local := readAll(t, dir); len(local) != 0 {
		t.Fatalf("%d rows still in local files after the upload", len(local))
	}
	tmp := filepath.Join(t.TempDir(), "got.parquet")
	if err := c.FGetObject(ctx, "lake", keys[0], tmp, minio.GetObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	rows, err := pq.ReadFile[Row](tmp)
	if err != nil || len(rows) != 2 || rows[0].EventID != evs[0].EventID {
		t.Fatalf("the uploaded file: %d rows, %v", len(rows), err)
	}

	// The server is unreachable (a wrong port): the file stays, the next start uploads it.
	bad := map[string]any{}
	for k, v := range s3 {
		bad[k] = v
	}
	g := newFiles(t, dir, map[string]any{"s3": bad})
	g.s.Upload.Endpoint = "127.0.0.1:1"
	g.up, _ = newUploader(*g.s.Upload)
	if err := g.Write(ctx, []*schema.Event{event(schema.NewEventID(), "v3", at)}); err == nil {
		g.rollDue(true)
	}
	if local := readAll(t, dir); len(local) != 1 {
		t.Fatalf("a file whose upload failed: %d local rows, want 1", len(local))
	}
	h := newFiles(t, dir, map[string]any{"s3": s3})
	if err := h.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if keys := objects(t, c, "lake"); len(keys) != 2 {
		t.Fatalf("after the restart: %v", keys)
	}
	if local := readAll(t, dir); len(local) != 0 {
		t.Fatal("the file is still local after the restart uploaded it")
	}
}

func objects(t *testing.T, c *minio.Client, bucket string) []string {
	t.Helper()
	var out []string
	for o := range c.ListObjects(context.Background(), bucket, minio.ListObjectsOptions{Recursive: true}) {
		if o.Err != nil {
			t.Fatal(o.Err)
		}
		out = append(out, o.Key)
	}
	return out
}
