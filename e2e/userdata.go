package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Synthesized is what the rehearsal reads from a synthesized stack: the
// instance's user data as Terraform holds it and where the artifact lives.
type Synthesized struct {
	UserData       string // still Terraform-escaped, references unresolved
	ArtifactFile   string // absolute path of the asset file
	ArtifactKey    string // the object key, literal in the JSON
	ArtifactBucket string // the Terraform reference naming the artifact bucket
}

// ReadSynthesized reads the single-instance stack in stackDir (the directory
// holding cdk.tf.json).
func ReadSynthesized(stackDir string) (Synthesized, error) {
	raw, err := os.ReadFile(filepath.Join(stackDir, "cdk.tf.json"))
	if err != nil {
		return Synthesized{}, err
	}
	var doc struct {
		Resource map[string]map[string]map[string]any `json:"resource"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return Synthesized{}, fmt.Errorf("parse cdk.tf.json: %w", err)
	}
	var s Synthesized
	instances := doc.Resource["aws_instance"]
	if len(instances) != 1 {
		return s, fmt.Errorf("want exactly one aws_instance, found %d", len(instances))
	}
	for _, inst := range instances {
		s.UserData, _ = inst["user_data"].(string)
	}
	if s.UserData == "" {
		return s, fmt.Errorf("aws_instance has no plain user_data")
	}
	// The artifact is the one object whose source is a file, not inline content.
	for name, obj := range doc.Resource["aws_s3_object"] {
		src, ok := obj["source"].(string)
		if !ok {
			continue
		}
		if s.ArtifactFile != "" {
			return s, fmt.Errorf("more than one aws_s3_object with a source file (%s)", name)
		}
		s.ArtifactFile = filepath.Join(stackDir, src)
		s.ArtifactKey, _ = obj["key"].(string)
		s.ArtifactBucket, _ = obj["bucket"].(string)
	}
	if s.ArtifactFile == "" || s.ArtifactKey == "" || s.ArtifactBucket == "" {
		return s, fmt.Errorf("no artifact aws_s3_object with source, key and bucket")
	}
	if strings.Contains(s.ArtifactKey, "${") {
		return s, fmt.Errorf("artifact key %q is not literal", s.ArtifactKey)
	}
	return s, nil
}

// Substitution is one Terraform reference in the user data and the value the
// rehearsal's world gives it.
type Substitution struct {
	Reference string // e.g. aws_s3_bucket.served.bucket
	Value     string
}

// RenderUserData does what Terraform does to the user data string before it
// reaches EC2, and nothing more: it replaces each ${reference} with its value
// from values and turns the escapes $${ and %%{ into ${ and %{. A reference
// with no value, or a template directive, is an error: the rehearsal must
// never guess. It returns the script and the substitutions made, in order of
// first appearance.
func RenderUserData(tf string, values map[string]string) (string, []Substitution, error) {
	var out strings.Builder
	var subs []Substitution
	seen := map[string]bool{}
	for i := 0; i < len(tf); {
		switch {
		case strings.HasPrefix(tf[i:], "$${"), strings.HasPrefix(tf[i:], "%%{"):
			out.WriteString(tf[i+1 : i+3])
			i += 3
		case strings.HasPrefix(tf[i:], "%{"):
			return "", nil, fmt.Errorf("template directive at byte %d: the rehearsal renders references only", i)
		case strings.HasPrefix(tf[i:], "${"):
			end := strings.IndexByte(tf[i:], '}')
			if end < 0 {
				return "", nil, fmt.Errorf("unterminated reference at byte %d", i)
			}
			ref := strings.TrimSpace(tf[i+2 : i+end])
			v, ok := values[ref]
			if !ok {
				return "", nil, fmt.Errorf("reference ${%s} has no rehearsal value (known: %s)", ref, strings.Join(sortedKeys(values), ", "))
			}
			if !seen[ref] {
				seen[ref] = true
				subs = append(subs, Substitution{Reference: ref, Value: v})
			}
			out.WriteString(v)
			i += end + 1
		default:
			out.WriteByte(tf[i])
			i++
		}
	}
	return out.String(), subs, nil
}

// BucketReferences returns each distinct aws_s3_bucket attribute reference in
// a Terraform string (${aws_s3_bucket.NAME.bucket} or .id), the only kind the
// stack's user data may hold: bucket names that are generated at apply time.
func BucketReferences(tf string) []string {
	var refs []string
	seen := map[string]bool{}
	for rest := tf; ; {
		i := strings.Index(rest, "${aws_s3_bucket.")
		if i < 0 {
			break
		}
		// Skip an escaped $${, which is bash, not Terraform.
		if i > 0 && rest[i-1] == '$' {
			rest = rest[i+2:]
			continue
		}
		end := strings.IndexByte(rest[i:], '}')
		if end < 0 {
			break
		}
		ref := rest[i+2 : i+end]
		if !seen[ref] {
			seen[ref] = true
			refs = append(refs, ref)
		}
		rest = rest[i+end:]
	}
	return refs
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
