package stack

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// tfJSONToHCL renders a Terraform JSON configuration (cdk.tf.json) as native
// Terraform syntax, for the security scanner only.
//
// Why: tfsec (and trivy, which inherited its parser) reads nested blocks of
// .tf.json files with the top-level schema, so it sees none of them:
// metadata_options, root_block_device, versioning_configuration and the like
// all look absent. On cdk.tf.json it reports IMDSv2, EBS encryption, bucket
// encryption and versioning as missing although they are set (false
// positives), and it cannot see anything wrong inside a nested block (false
// negatives). JSON cannot tell a nested block from an object-valued argument
// without the provider schema (see aquasecurity/trivy#5907); this renders
// every object-valued key as a block except the map arguments in mapArgs,
// and TestScanCanary proves the scanner sees through the result.
//
// The output is not meant for terraform: string references in depends_on and
// ignore_changes stay strings, and the "//" metadata keys are dropped.
func tfJSONToHCL(data []byte) (string, error) {
	var doc map[string]any
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		return "", fmt.Errorf("parse Terraform JSON: %w", err)
	}
	var b strings.Builder
	for _, kind := range sortedKeys(doc) {
		body := doc[kind]
		switch kind {
		case "//":
			continue
		case "resource", "data":
			for _, typ := range sortedKeys(asMap(body)) {
				for _, name := range sortedKeys(asMap(asMap(body)[typ])) {
					writeBlock(&b, 0, kind+" "+strconv.Quote(typ)+" "+strconv.Quote(name), asMap(asMap(asMap(body)[typ])[name]))
				}
			}
		case "output", "variable", "module":
			for _, name := range sortedKeys(asMap(body)) {
				writeBlock(&b, 0, kind+" "+strconv.Quote(name), asMap(asMap(body)[name]))
			}
		case "provider":
			for _, name := range sortedKeys(asMap(body)) {
				for _, p := range asList(asMap(body)[name]) {
					writeBlock(&b, 0, "provider "+strconv.Quote(name), asMap(p))
				}
			}
		case "terraform":
			t := asMap(body)
			fmt.Fprintf(&b, "terraform {\n")
			if be, ok := t["backend"]; ok {
				for _, typ := range sortedKeys(asMap(be)) {
					writeBlock(&b, 1, "backend "+strconv.Quote(typ), asMap(asMap(be)[typ]))
				}
			}
			if rp, ok := t["required_providers"]; ok {
				writeBlock(&b, 1, "required_providers", map[string]any{"//args": rp})
			}
			fmt.Fprintf(&b, "}\n\n")
		case "locals":
			writeBlock(&b, 0, "locals", map[string]any{"//args": body})
		default:
			return "", fmt.Errorf("Terraform JSON: unexpected top-level key %q", kind)
		}
	}
	return b.String(), nil
}

// mapArgs are the object-valued keys that are arguments (maps), not nested
// blocks. Any other object-valued key is rendered as a block.
var mapArgs = map[string]bool{"tags": true, "tags_all": true}

func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

func asList(v any) []any {
	if l, ok := v.([]any); ok {
		return l
	}
	return []any{v}
}

// writeBlock writes `header { ... }` with the body's arguments first, then
// its nested blocks. A body key "//args" holds an object whose keys are all
// arguments (required_providers, locals).
func writeBlock(b *strings.Builder, depth int, header string, body map[string]any) {
	ind := strings.Repeat("  ", depth)
	fmt.Fprintf(b, "%s%s {\n", ind, header)
	if args, ok := body["//args"]; ok {
		for _, k := range sortedKeys(asMap(args)) {
			fmt.Fprintf(b, "%s  %s = %s\n", ind, k, hclValue(asMap(args)[k], depth+1))
		}
		fmt.Fprintf(b, "%s}\n", ind)
		return
	}
	var blocks []string
	for _, k := range sortedKeys(body) {
		v := body[k]
		if k == "//" {
			continue
		}
		if isBlock(k, v) {
			blocks = append(blocks, k)
			continue
		}
		fmt.Fprintf(b, "%s  %s = %s\n", ind, k, hclValue(v, depth+1))
	}
	for _, k := range blocks {
		for _, item := range asList(body[k]) {
			writeBlock(b, depth+1, k, asMap(item))
		}
	}
	fmt.Fprintf(b, "%s}\n", ind)
	if depth == 0 {
		b.WriteString("\n")
	}
}

// isBlock reports whether the key k with JSON value v is a nested block: an
// object, or a non-empty list of objects, that is not a map argument.
func isBlock(k string, v any) bool {
	if mapArgs[k] {
		return false
	}
	switch v := v.(type) {
	case map[string]any:
		return true
	case []any:
		return len(v) > 0 && !slices.ContainsFunc(v, func(e any) bool { _, ok := e.(map[string]any); return !ok })
	}
	return false
}

// hclValue renders a JSON value as an HCL expression. Strings keep their
// template sequences (${...}, $${, %{), which mean the same in both syntaxes.
func hclValue(v any, depth int) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case bool:
		return strconv.FormatBool(v)
	case json.Number:
		return v.String()
	case float64:
		if v == math.Trunc(v) {
			return strconv.FormatInt(int64(v), 10)
		}
		return strconv.FormatFloat(v, 'g', -1, 64)
	case string:
		return hclTemplate(v)
	case []any:
		parts := make([]string, len(v))
		for i, e := range v {
			parts[i] = hclValue(e, depth)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case map[string]any:
		ind := strings.Repeat("  ", depth)
		var s strings.Builder
		s.WriteString("{\n")
		for _, k := range sortedKeys(v) {
			fmt.Fprintf(&s, "%s  %s = %s\n", ind, strconv.Quote(k), hclValue(v[k], depth+1))
		}
		s.WriteString(ind + "}")
		return s.String()
	}
	panic(fmt.Sprintf("hclValue: unexpected %T", v))
}

// hclTemplate writes a JSON-syntax template string in native syntax. The
// literal text between template sequences is quoted as a string (quotes,
// backslashes and newlines escaped); each interpolation or directive
// (${...}, %{...}) is an expression, copied as it is: the quotes of a
// string inside it, as in ${base64encode("...")}, are its own, not the
// template's. The escapes $${ and %%{ mean the same in both syntaxes.
func hclTemplate(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	lit := 0 // start of the pending literal text
	flush := func(end int) {
		q := hclString(s[lit:end])
		b.WriteString(q[1 : len(q)-1])
	}
	for i := 0; i < len(s); {
		switch {
		case strings.HasPrefix(s[i:], "$${"), strings.HasPrefix(s[i:], "%%{"):
			i += 3
		case strings.HasPrefix(s[i:], "${"), strings.HasPrefix(s[i:], "%{"):
			flush(i)
			end := templateSequenceEnd(s, i)
			b.WriteString(s[i:end])
			i, lit = end, end
		default:
			i++
		}
	}
	flush(len(s))
	b.WriteByte('"')
	return b.String()
}

// templateSequenceEnd returns the index just past the template sequence
// ("${...}" or "%{...}") that starts at s[i]: the closing brace at the
// same depth, skipping braces in quoted strings, which may hold template
// sequences of their own.
func templateSequenceEnd(s string, i int) int {
	type frame struct {
		quoted bool // in a quoted string, else in an expression
		depth  int  // open braces, in an expression
	}
	stack := []frame{{depth: 1}}
	j := i + 2
	for j < len(s) && len(stack) > 0 {
		top := &stack[len(stack)-1]
		if top.quoted {
			switch {
			case s[j] == '\\':
				j += 2
			case strings.HasPrefix(s[j:], "$${"), strings.HasPrefix(s[j:], "%%{"):
				j += 3
			case strings.HasPrefix(s[j:], "${"), strings.HasPrefix(s[j:], "%{"):
				stack = append(stack, frame{depth: 1})
				j += 2
			case s[j] == '"':
				stack = stack[:len(stack)-1]
				j++
			default:
				j++
			}
			continue
		}
		switch s[j] {
		case '"':
			stack = append(stack, frame{quoted: true})
		case '{':
			top.depth++
		case '}':
			if top.depth--; top.depth == 0 {
				stack = stack[:len(stack)-1]
			}
		}
		j++
	}
	return j
}

func TestHCLTemplate(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"plain \"text\"\n", `"plain \"text\"\n"`},
		{"a ${aws_s3_bucket.b.bucket} b", `"a ${aws_s3_bucket.b.bucket} b"`},
		{"$${HOME} and %%{x}", `"$${HOME} and %%{x}"`},
		// The quotes and escapes inside an interpolation belong to its expression.
		{`${base64encode("l1\n\"q\" ${aws_s3_bucket.b.bucket} $${X} {")}` + "\n", `"${base64encode("l1\n\"q\" ${aws_s3_bucket.b.bucket} $${X} {")}\n"`},
		{`${element(sort(x), 0)}-"z"`, `"${element(sort(x), 0)}-\"z\""`},
		{`%{ if a }"x"%{ endif }`, `"%{ if a }\"x\"%{ endif }"`},
	} {
		if got := hclTemplate(tc.in); got != tc.want {
			t.Errorf("hclTemplate(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestTFJSONToHCL(t *testing.T) {
	in := `{
  "//": {"metadata": {}},
  "terraform": {"backend": {"local": {"path": "s.tfstate"}}, "required_providers": {"aws": {"source": "aws", "version": "5.0.0"}}},
  "provider": {"aws": [{"region": "us-east-1", "default_tags": [{"tags": {"A": "b"}}]}]},
  "resource": {"aws_instance": {"vm": {
    "//": {"metadata": {}},
    "user_data": "#!/bin/bash\necho \"$${X}\" ${aws_s3_bucket.b.bucket} \\ \t",
    "metadata_options": {"http_tokens": "required", "http_put_response_hop_limit": 1},
    "tags": {"Name": "x"},
    "depends_on": ["aws_s3_object.o"]
  }}},
  "output": {"url": {"value": "http://${aws_instance.vm.public_dns}/"}}
}`
	got, err := tfJSONToHCL([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := `output "url" {
  value = "http://${aws_instance.vm.public_dns}/"
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
  depends_on = ["aws_s3_object.o"]
  tags = {
    "Name" = "x"
  }
  user_data = "#!/bin/bash\necho \"$${X}\" ${aws_s3_bucket.b.bucket} \\ \t"
  metadata_options {
    http_put_response_hop_limit = 1
    http_tokens = "required"
  }
}

terraform {
  backend "local" {
    path = "s.tfstate"
  }
  required_providers {
    aws = {
      "source" = "aws"
      "version" = "5.0.0"
    }
  }
}

`
	if got != want {
		t.Errorf("tfJSONToHCL =\n%s\nwant\n%s", got, want)
	}
}
