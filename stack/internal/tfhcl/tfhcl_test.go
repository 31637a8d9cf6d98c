package tfhcl

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
)

// evalContext resolves the references and functions of the template cases.
var evalContext = &hcl.EvalContext{
	Variables: map[string]cty.Value{
		"aws_s3_bucket": cty.ObjectVal(map[string]cty.Value{"b": cty.ObjectVal(map[string]cty.Value{"bucket": cty.StringVal("bkt")})}),
		"x":             cty.ListVal([]cty.Value{cty.StringVal("b"), cty.StringVal("a")}),
		"a":             cty.True,
	},
	Functions: map[string]function.Function{
		"element": stdlib.ElementFunc,
		"sort":    stdlib.SortFunc,
		"base64encode": function.New(&function.Spec{
			Params: []function.Parameter{{Name: "s", Type: cty.String}},
			Type:   function.StaticReturnType(cty.String),
			Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
				return cty.StringVal(base64.StdEncoding.EncodeToString([]byte(args[0].AsString()))), nil
			},
		}),
	},
}

// TestTemplate checks the native text of each template, and that it means
// what the JSON string means: both evaluate to the same value, as
// Terraform evaluates them.
func TestTemplate(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", `""`},
		{"plain \"text\"\n\t\\", `"plain \"text\"\n\t\\"`},
		{"a ${aws_s3_bucket.b.bucket} b", `"a ${aws_s3_bucket.b.bucket} b"`},
		{"$${HOME} and %%{x} and $$ and $", `"$${HOME} and %%{x} and $$ and $"`},
		// The quotes and escapes inside an interpolation belong to its
		// expression, and a string there may hold sequences of its own:
		// what a launch template's base64-encoded user data looks like.
		{`${base64encode("l1\n\"q\" ${aws_s3_bucket.b.bucket} $${X} {")}` + "\n", `"${base64encode("l1\n\"q\" ${aws_s3_bucket.b.bucket} $${X} {")}\n"`},
		{`${element(sort(x), 0)}-"z"`, `"${element(sort(x), 0)}-\"z\""`},
		{`%{ if a }"x"%{ endif }`, `"%{ if a }\"x\"%{ endif }"`},
	} {
		toks, err := Template(tc.in)
		if err != nil {
			t.Errorf("Template(%q): %v", tc.in, err)
			continue
		}
		got := string(toks.Bytes())
		if got != tc.want {
			t.Errorf("Template(%q) = %s, want %s", tc.in, got, tc.want)
		}
		// Terraform reads a JSON string as a bare template.
		fromJSON, diags := hclsyntax.ParseTemplate([]byte(tc.in), "json", hcl.InitialPos)
		if diags.HasErrors() {
			t.Fatalf("%q as JSON: %v", tc.in, diags)
		}
		native, diags := hclsyntax.ParseExpression([]byte(got), "native", hcl.InitialPos)
		if diags.HasErrors() {
			t.Errorf("%s does not parse: %v", got, diags)
			continue
		}
		want, diags := fromJSON.Value(evalContext)
		if diags.HasErrors() {
			t.Fatalf("%q as JSON: %v", tc.in, diags)
		}
		if v, diags := native.Value(evalContext); diags.HasErrors() || !v.RawEquals(want) {
			t.Errorf("%s evaluates to %#v (%v), the JSON to %#v", got, v, diags, want)
		}
	}
}

func TestTemplateUnclosed(t *testing.T) {
	if toks, err := Template("a ${b"); err == nil {
		t.Errorf(`Template("a ${b") = %s, want an error`, toks.Bytes())
	}
}

func TestFromJSON(t *testing.T) {
	in := `{
  "//": {"metadata": {}},
  "terraform": {"backend": {"local": {"path": "s.tfstate"}}, "required_providers": {"aws": {"source": "aws", "version": "5.0.0"}}},
  "provider": {"aws": [{"region": "us-east-1", "default_tags": [{"tags": {"A": "b"}}]}]},
  "resource": {"aws_instance": {"vm": {
    "//": {"metadata": {}},
    "user_data": "#!/bin/bash\necho \"$${X}\" ${aws_s3_bucket.b.bucket} \\ \t",
    "metadata_options": {"http_tokens": "required", "http_put_response_hop_limit": 1},
    "ebs_block_device": [{"device_name": "/dev/sdb"}, {"device_name": "/dev/sdc"}],
    "security_groups": [],
    "tags": {"Name": "x"},
    "depends_on": ["aws_s3_object.o"],
    "lifecycle": {"ignore_changes": ["ami"]}
  }}},
  "output": {"url": {"value": "http://${aws_instance.vm.public_dns}/", "sensitive": false}}
}`
	got, err := FromJSON([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := `output "url" {
  sensitive = false
  value     = "http://${aws_instance.vm.public_dns}/"
}

provider "aws" {
  region = "us-east-1"
  default_tags {
    tags = {
      "A" = "b"
    }
  }
}

resource "aws_instance" "vm" {
  depends_on      = [aws_s3_object.o]
  security_groups = []
  tags = {
    "Name" = "x"
  }
  user_data = "#!/bin/bash\necho \"$${X}\" ${aws_s3_bucket.b.bucket} \\ \t"
  ebs_block_device {
    device_name = "/dev/sdb"
  }
  ebs_block_device {
    device_name = "/dev/sdc"
  }
  lifecycle {
    ignore_changes = [ami]
  }
  metadata_options {
    http_put_response_hop_limit = 1
    http_tokens                 = "required"
  }
}

terraform {
  backend "local" {
    path = "s.tfstate"
  }
  required_providers {
    aws = {
      "source"  = "aws"
      "version" = "5.0.0"
    }
  }
}

`
	if string(got) != want {
		t.Errorf("FromJSON =\n%s\nwant\n%s", got, want)
	}
}

func TestFromJSONRejects(t *testing.T) {
	for _, in := range []string{`{`, `{"moved": {}}`, `{"resource": {"t": {"n": {"depends_on": ["not a reference"]}}}}`} {
		if _, err := FromJSON([]byte(in)); err == nil {
			t.Errorf("FromJSON(%s): no error", in)
		}
	}
}

// TestGoldenStacks converts the stack's golden files, which hold every
// resource shape the stack synthesizes, and checks that each result is
// native syntax with one block per JSON resource.
func TestGoldenStacks(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join("..", "..", "testdata", "golden", "*.cdk.tf.json"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no golden stacks: %v", err)
	}
	for _, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		native, err := FromJSON(data)
		if err != nil {
			t.Errorf("%s: %v", path, err)
			continue
		}
		f, diags := hclsyntax.ParseConfig(native, "main.tf", hcl.InitialPos)
		if diags.HasErrors() {
			t.Errorf("%s: the rendering does not parse: %v", path, diags)
			continue
		}
		var doc struct {
			Resource map[string]map[string]json.RawMessage `json:"resource"`
		}
		if err := json.Unmarshal(data, &doc); err != nil {
			t.Fatal(err)
		}
		want := 0
		for _, byName := range doc.Resource {
			want += len(byName)
		}
		got := 0
		for _, b := range f.Body.(*hclsyntax.Body).Blocks {
			if b.Type == "resource" {
				got++
			}
		}
		if got != want || want == 0 {
			t.Errorf("%s: %d resource blocks, want %d", path, got, want)
		}
	}
}
