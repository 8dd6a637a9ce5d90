package parquetfile

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// S3 is where finished files go: an S3-compatible bucket (AWS S3, MinIO,
// versitygw, Ceph…), under prefix, keeping the Hive layout.
type S3 struct {
	Endpoint  string `mapstructure:"endpoint"` // host[:port], no scheme
	Bucket    string `mapstructure:"bucket"`
	Prefix    string `mapstructure:"prefix"`
	Region    string `mapstructure:"region"`
	AccessKey string `mapstructure:"access_key"`
	SecretKey string `mapstructure:"secret_key"`
	Insecure  bool   `mapstructure:"insecure"` // plain HTTP (a local server)
}

// uploader moves finished files to the bucket.
type uploader interface {
	open(ctx context.Context) error
	put(ctx context.Context, key, path string) error
}

type s3Uploader struct {
	c *minio.Client
	s S3
}

func newUploader(s S3) (uploader, error) {
	if s.Endpoint == "" || s.Bucket == "" || strings.Contains(s.Endpoint, "://") {
		return nil, fmt.Errorf("endpoint (host:port, no scheme) and bucket are needed")
	}
	c, err := minio.New(s.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(s.AccessKey, s.SecretKey, ""),
		Secure: !s.Insecure, Region: s.Region})
	if err != nil {
		return nil, err
	}
	return &s3Uploader{c: c, s: s}, nil
}

// open checks that the bucket is there (it is not created: a bucket is
// the operator's, with its own policies).
func (u *s3Uploader) open(ctx context.Context) error {
	ok, err := u.c.BucketExists(ctx, u.s.Bucket)
	if err != nil {
		return fmt.Errorf("reaching bucket %s at %s: %w", u.s.Bucket, u.s.Endpoint, err)
	}
	if !ok {
		return fmt.Errorf("bucket %s does not exist at %s", u.s.Bucket, u.s.Endpoint)
	}
	return nil
}

// put uploads one file under key (a single PUT: whole or not at all).
func (u *s3Uploader) put(ctx context.Context, key, path string) error {
	_, err := u.c.FPutObject(ctx, u.s.Bucket, strings.TrimPrefix(u.s.Prefix+"/"+key, "/"), path,
		minio.PutObjectOptions{ContentType: "application/vnd.apache.parquet"})
	return err
}

// upload moves one finished file to the bucket, then removes it here.
func (f *Files) upload(ctx context.Context, path string) error {
	rel, err := filepath.Rel(f.s.Dir, path)
	if err != nil {
		return err
	}
	if err := f.up.put(ctx, filepath.ToSlash(rel), path); err != nil {
		return fmt.Errorf("uploading %s: %w", rel, err)
	}
	return os.Remove(path)
}

// uploadAll uploads the finished files still here (their upload failed,
// or the process stopped before it).
func (f *Files) uploadAll(ctx context.Context) error {
	if f.up == nil {
		return nil
	}
	var paths []string
	err := filepath.WalkDir(f.s.Dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == ".wal" {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(p, ".parquet") && !strings.HasPrefix(d.Name(), ".") {
			paths = append(paths, p)
		}
		return nil
	})
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	for _, p := range paths {
		if err := f.upload(ctx, p); err != nil {
			return err
		}
	}
	return nil
}
