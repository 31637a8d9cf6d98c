// Package tftemplate handles the template strings of a Terraform
// configuration, such as an instance's user_data in cdk.tf.json: Escape
// makes literal text safe in one, and Render and References do to one
// what Terraform does, for the stack's tests and the boot rehearsal
// (e2e/), which read the user data of a synthesized stack. It handles
// references (${...}) and the escapes $${ and %%{, and refuses template
// directives (%{...}): the stack writes none.
package tftemplate

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Escape returns s as a template whose value is s: "${" and "%{" become
// "$${" and "%%{".
func Escape(s string) string {
	return strings.NewReplacer("${", "$${", "%{", "%%{").Replace(s)
}

// Substitution is one reference in a template and the value Render gave it.
type Substitution struct {
	Reference string // e.g. aws_s3_bucket.served.bucket
	Value     string
}

// Render does what Terraform does to a template string, and nothing more:
// it replaces each ${reference} with its value from values and turns the
// escapes $${ and %%{ into ${ and %{. A reference with no value, or a
// template directive, is an error: a test must never guess. It returns
// the text and the substitutions made, in order of first appearance.
func Render(tpl string, values map[string]string) (string, []Substitution, error) {
	var out strings.Builder
	var subs []Substitution
	err := walk(tpl, func(s string) { out.WriteString(s) }, func(ref string) error {
		v, ok := values[ref]
		if !ok {
			return fmt.Errorf("reference ${%s} has no value (known: %s)", ref, strings.Join(slices.Sorted(maps.Keys(values)), ", "))
		}
		if !slices.ContainsFunc(subs, func(s Substitution) bool { return s.Reference == ref }) {
			subs = append(subs, Substitution{Reference: ref, Value: v})
		}
		out.WriteString(v)
		return nil
	})
	if err != nil {
		return "", nil, err
	}
	return out.String(), subs, nil
}

// References returns each distinct reference in a template (the
// expression inside ${...}), in order of first appearance; escaped $${
// sequences are text, not references.
func References(tpl string) ([]string, error) {
	var refs []string
	err := walk(tpl, func(string) {}, func(ref string) error {
		if !slices.Contains(refs, ref) {
			refs = append(refs, ref)
		}
		return nil
	})
	return refs, err
}

// walk reads tpl from the start and calls text for each piece of literal
// text (escapes undone) and ref for each reference, in order.
func walk(tpl string, text func(string), ref func(string) error) error {
	for i := 0; i < len(tpl); {
		switch {
		case strings.HasPrefix(tpl[i:], "$${"), strings.HasPrefix(tpl[i:], "%%{"):
			text(tpl[i+1 : i+3])
			i += 3
		case strings.HasPrefix(tpl[i:], "%{"):
			return fmt.Errorf("template directive at byte %d: only references are rendered", i)
		case strings.HasPrefix(tpl[i:], "${"):
			end := strings.IndexByte(tpl[i:], '}')
			if end < 0 {
				return fmt.Errorf("unterminated reference at byte %d", i)
			}
			if err := ref(strings.TrimSpace(tpl[i+2 : i+end])); err != nil {
				return err
			}
			i += end + 1
		default:
			next := len(tpl)
			if j := strings.IndexAny(tpl[i+1:], "$%"); j >= 0 {
				next = i + 1 + j
			}
			text(tpl[i:next])
			i = next
		}
	}
	return nil
}
