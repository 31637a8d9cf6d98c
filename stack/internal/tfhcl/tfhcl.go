// Package tfhcl renders a Terraform JSON configuration (cdk.tf.json) in
// native Terraform syntax, so a security scanner can read it.
//
// Why: Trivy and tfsec read nested blocks of .tf.json files with the
// top-level schema, so they see none of them: metadata_options,
// root_block_device, versioning_configuration and the like all look
// absent. On cdk.tf.json they report IMDSv2, EBS encryption, bucket
// encryption and versioning as missing although they are set (false
// positives), and they cannot see anything wrong inside a nested block
// (false negatives). JSON cannot tell a nested block from an object-valued
// argument without the provider schema (see aquasecurity/trivy#5907):
// FromJSON renders every object-valued key as a block except the map
// arguments in mapArgs, and the stack's scan canaries prove the scanner
// sees through the result.
//
// The output is written with hclwrite; templates are split with the HCL
// lexer, so no quoting or brace matching is done here by hand.
package tfhcl

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"
)

// FromJSON returns the Terraform JSON configuration data in native syntax.
// The "//" metadata keys that cdktf writes are dropped.
func FromJSON(data []byte) ([]byte, error) {
	var doc map[string]any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber() // numbers keep their exact text
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("parse Terraform JSON: %w", err)
	}
	f := hclwrite.NewEmptyFile()
	for _, kind := range sortedKeys(doc) {
		if kind == "//" {
			continue
		}
		if err := writeTopLevel(f.Body(), kind, doc[kind]); err != nil {
			return nil, fmt.Errorf("top-level %s: %w", kind, err)
		}
		f.Body().AppendNewline()
	}
	return f.Bytes(), nil
}

// writeTopLevel writes the top-level key kind of a Terraform JSON
// configuration, with its value body, to root.
func writeTopLevel(root *hclwrite.Body, kind string, body any) error {
	switch kind {
	case "resource", "data": // kind "type" "name" { ... }
		for _, typ := range sortedKeys(asMap(body)) {
			byName := asMap(asMap(body)[typ])
			for _, name := range sortedKeys(byName) {
				if err := writeBlock(root, kind, []string{typ, name}, asMap(byName[name])); err != nil {
					return err
				}
			}
		}
	case "output", "variable", "module": // kind "name" { ... }
		for _, name := range sortedKeys(asMap(body)) {
			if err := writeBlock(root, kind, []string{name}, asMap(asMap(body)[name])); err != nil {
				return err
			}
		}
	case "provider": // one block per configuration of a provider
		for _, name := range sortedKeys(asMap(body)) {
			for _, p := range asList(asMap(body)[name]) {
				if err := writeBlock(root, kind, []string{name}, asMap(p)); err != nil {
					return err
				}
			}
		}
	case "terraform":
		return writeTerraform(root, asMap(body))
	case "locals":
		return writeArguments(root.AppendNewBlock("locals", nil).Body(), asMap(body))
	default:
		return fmt.Errorf("unexpected top-level key")
	}
	return nil
}

// writeTerraform writes the terraform block: backends are labelled
// blocks, required_providers holds only arguments.
func writeTerraform(root *hclwrite.Body, t map[string]any) error {
	b := root.AppendNewBlock("terraform", nil).Body()
	for _, k := range sortedKeys(t) {
		switch k {
		case "backend":
			for _, typ := range sortedKeys(asMap(t[k])) {
				if err := writeBlock(b, k, []string{typ}, asMap(asMap(t[k])[typ])); err != nil {
					return err
				}
			}
		case "required_providers":
			if err := writeArguments(b.AppendNewBlock(k, nil).Body(), asMap(t[k])); err != nil {
				return err
			}
		default:
			if err := writeAttribute(b, k, t[k]); err != nil {
				return err
			}
		}
	}
	return nil
}

// mapArgs are the object-valued keys that are arguments (maps), not nested
// blocks. Any other object-valued key is rendered as a block.
var mapArgs = map[string]bool{"tags": true, "tags_all": true}

// traversalArgs are the meta-arguments whose JSON strings are references,
// not templates (Terraform parses them as traversals).
var traversalArgs = map[string]bool{"depends_on": true, "ignore_changes": true, "replace_triggered_by": true, "provider": true}

// writeBlock appends `typ "labels" { ... }` to parent: the body's
// arguments first, then its nested blocks, each group sorted by key.
func writeBlock(parent *hclwrite.Body, typ string, labels []string, body map[string]any) error {
	b := parent.AppendNewBlock(typ, labels).Body()
	var blocks []string
	for _, k := range sortedKeys(body) {
		switch {
		case k == "//":
		case isBlock(k, body[k]):
			blocks = append(blocks, k)
		default:
			if err := writeAttribute(b, k, body[k]); err != nil {
				return err
			}
		}
	}
	for _, k := range blocks {
		for _, item := range asList(body[k]) {
			if err := writeBlock(b, k, nil, asMap(item)); err != nil {
				return err
			}
		}
	}
	return nil
}

// writeArguments writes every key of args as an argument of b.
func writeArguments(b *hclwrite.Body, args map[string]any) error {
	for _, k := range sortedKeys(args) {
		if err := writeAttribute(b, k, args[k]); err != nil {
			return err
		}
	}
	return nil
}

// writeAttribute sets the argument name of b to the JSON value v.
func writeAttribute(b *hclwrite.Body, name string, v any) error {
	var toks hclwrite.Tokens
	var err error
	if traversalArgs[name] {
		toks, err = traversalTokens(v)
	} else {
		toks, err = valueTokens(v)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	b.SetAttributeRaw(name, toks)
	return nil
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

// valueTokens renders a JSON value as a native expression. Strings are
// templates in both syntaxes (see Template).
func valueTokens(v any) (hclwrite.Tokens, error) {
	switch v := v.(type) {
	case nil:
		return hclwrite.TokensForValue(cty.NullVal(cty.DynamicPseudoType)), nil
	case bool:
		return hclwrite.TokensForValue(cty.BoolVal(v)), nil
	case json.Number:
		n, err := cty.ParseNumberVal(v.String())
		if err != nil {
			return nil, err
		}
		return hclwrite.TokensForValue(n), nil
	case string:
		return Template(v)
	case []any:
		return tupleTokens(v, valueTokens)
	case map[string]any:
		var attrs []hclwrite.ObjectAttrTokens
		for _, k := range sortedKeys(v) {
			name, err := Template(k)
			if err != nil {
				return nil, err
			}
			val, err := valueTokens(v[k])
			if err != nil {
				return nil, err
			}
			attrs = append(attrs, hclwrite.ObjectAttrTokens{Name: name, Value: val})
		}
		return hclwrite.TokensForObject(attrs), nil
	}
	return nil, fmt.Errorf("unexpected JSON value %T", v)
}

// traversalTokens renders a reference meta-argument (a string, or a list
// of strings, such as depends_on) as bare references.
func traversalTokens(v any) (hclwrite.Tokens, error) {
	one := func(e any) (hclwrite.Tokens, error) {
		s, ok := e.(string)
		if !ok {
			return nil, fmt.Errorf("reference %v is not a string", e)
		}
		t, diags := hclsyntax.ParseTraversalAbs([]byte(s), "", hcl.InitialPos)
		if diags.HasErrors() {
			return nil, fmt.Errorf("reference %q: %s", s, diags.Error())
		}
		return hclwrite.TokensForTraversal(t), nil
	}
	if l, ok := v.([]any); ok {
		return tupleTokens(l, one)
	}
	return one(v)
}

// tupleTokens renders the list l as a tuple, each element by render.
func tupleTokens(l []any, render func(any) (hclwrite.Tokens, error)) (hclwrite.Tokens, error) {
	elems := make([]hclwrite.Tokens, len(l))
	for i, e := range l {
		var err error
		if elems[i], err = render(e); err != nil {
			return nil, err
		}
	}
	return hclwrite.TokensForTuple(elems), nil
}

// Template returns a native quoted string that means what the JSON string
// s means in Terraform JSON, where every string is a template. The HCL
// lexer splits s into literal text and template sequences (${...} and
// %{...}). Literal text is decoded (the escapes $${ and %%{) and quoted
// again by hclwrite, which escapes quotes, backslashes, newlines and
// template introducers. Each sequence is copied as it is: its expression
// has the same syntax in both forms, and the quotes of a string inside
// it, as in ${base64encode("...")}, are its own, not the template's.
func Template(s string) (hclwrite.Tokens, error) {
	src := []byte(s)
	toks, diags := hclsyntax.LexTemplate(src, "", hcl.InitialPos)
	if diags.HasErrors() {
		return nil, fmt.Errorf("template %q: %s", s, diags.Error())
	}
	var out bytes.Buffer
	var lit bytes.Buffer // decoded literal text not yet written
	flush := func() {
		q := hclwrite.TokensForValue(cty.StringVal(lit.String())).Bytes()
		out.Write(q[1 : len(q)-1]) // without the quotes
		lit.Reset()
	}
	depth, start := 0, 0 // open sequences; where the outermost began
	for _, tok := range toks {
		switch {
		case tok.Type == hclsyntax.TokenEOF:
		case depth == 0 && tok.Type == hclsyntax.TokenStringLit:
			text, diags := hclsyntax.ParseStringLiteralToken(tok)
			if diags.HasErrors() {
				return nil, fmt.Errorf("template %q: %s", s, diags.Error())
			}
			lit.WriteString(text)
		case tok.Type == hclsyntax.TokenTemplateInterp, tok.Type == hclsyntax.TokenTemplateControl:
			if depth == 0 {
				flush()
				start = tok.Range.Start.Byte
			}
			depth++
		case tok.Type == hclsyntax.TokenTemplateSeqEnd:
			if depth--; depth == 0 {
				out.Write(src[start:tok.Range.End.Byte])
			}
		}
	}
	if depth != 0 {
		return nil, fmt.Errorf("template %q: unclosed template sequence", s)
	}
	flush()
	// One literal token between the quotes: hclwrite's formatter puts no
	// spaces inside it.
	return hclwrite.Tokens{
		{Type: hclsyntax.TokenOQuote, Bytes: []byte(`"`)},
		{Type: hclsyntax.TokenQuotedLit, Bytes: out.Bytes()},
		{Type: hclsyntax.TokenCQuote, Bytes: []byte(`"`)},
	}, nil
}

func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

// asList returns v as a list: a JSON list, or a list of the one value v.
func asList(v any) []any {
	if l, ok := v.([]any); ok {
		return l
	}
	return []any{v}
}

// sortedKeys returns the keys of m in order: the output is the same on
// every run.
func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}
