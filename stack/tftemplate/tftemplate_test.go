package tftemplate

import (
	"strings"
	"testing"
)

func TestRender(t *testing.T) {
	values := map[string]string{
		"aws_s3_bucket.served.bucket":   "served-bucket",
		"aws_s3_bucket.artifact.bucket": "artifact-bucket",
	}
	tests := []struct {
		name     string
		in       string
		want     string
		wantSubs int
		wantErr  string
	}{
		{"literal", "echo hi\n", "echo hi\n", 0, ""},
		{"bash braces are escaped", `echo "$${HOME:-none}" $$x`, `echo "${HOME:-none}" $$x`, 0, ""},
		{"percent escape", `printf '%%{x}'`, `printf '%{x}'`, 0, ""},
		{"one reference twice", "B=${aws_s3_bucket.served.bucket}; echo ${aws_s3_bucket.served.bucket}", "B=served-bucket; echo served-bucket", 1, ""},
		{"two references", "s3://${aws_s3_bucket.artifact.bucket}/k ${aws_s3_bucket.served.bucket}", "s3://artifact-bucket/k served-bucket", 2, ""},
		{"non-ASCII kept", "echo 'ünïcode ✓' 100% $5", "echo 'ünïcode ✓' 100% $5", 0, ""},
		{"unknown reference", "${var.region}", "", 0, "has no value"},
		{"directive", "%{ if true }x%{ endif }", "", 0, "template directive"},
		{"unterminated", "${aws_s3_bucket.served.bucket", "", 0, "unterminated"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, subs, err := Render(tt.in, values)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Render(%q) error = %v, want %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Render(%q): %v", tt.in, err)
			}
			if got != tt.want || len(subs) != tt.wantSubs {
				t.Errorf("Render(%q) = %q, %d substitutions; want %q, %d", tt.in, got, len(subs), tt.want, tt.wantSubs)
			}
		})
	}
}

func TestReferences(t *testing.T) {
	in := "a=${aws_s3_bucket.x.bucket} b=$${aws_s3_bucket.not.ref} c=${aws_s3_bucket.y.id} d=${aws_s3_bucket.x.bucket}"
	refs, err := References(in)
	if got, want := strings.Join(refs, " "), "aws_s3_bucket.x.bucket aws_s3_bucket.y.id"; err != nil || got != want {
		t.Errorf("References = %q, %v; want %q", got, err, want)
	}
}

// TestEscapeRenders: an escaped text renders to itself, whatever bash or
// percent signs it holds.
func TestEscapeRenders(t *testing.T) {
	for _, s := range []string{`echo "${HOSTNAME}" %{x} $PWD`, "$${already}", "%%{", "$", "%", "${", "a$}b%}"} {
		esc := Escape(s)
		if got, _, err := Render(esc, nil); err != nil || got != s {
			t.Errorf("Render(Escape(%q)) = %q, %v", s, got, err)
		}
		if refs, err := References(esc); err != nil || len(refs) != 0 {
			t.Errorf("References(Escape(%q)) = %q, %v; want none", s, refs, err)
		}
	}
	if got := Escape(`echo "${HOSTNAME}" %{x} $PWD`); got != `echo "$${HOSTNAME}" %%{x} $PWD` {
		t.Errorf("Escape = %q", got)
	}
}
