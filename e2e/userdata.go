package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
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
