package bootscript

import (
	"io"
	"strings"
	"text/template"
	"text/template/parse"
)

// textTemplate is a template whose placeholders are the fields of V:
// render takes a V and nothing else.
type textTemplate[V any] struct{ t *template.Template }

// newTemplate parses text and executes it once with a zero V. A template
// holds text and field references ({{.Name}}) only, no conditions or
// loops (optional parts are rendered into fields of their own), so that
// run reaches every placeholder: one that names no field of V panics when
// the package loads, and render cannot fail afterwards.
func newTemplate[V any](name, text string) textTemplate[V] {
	t := template.Must(template.New(name).Parse(text))
	for _, n := range t.Tree.Root.Nodes {
		if !plainNode(n) {
			panic("bootscript: template " + name + ": " + n.String() + " is not a field reference")
		}
	}
	var zero V
	if err := t.Execute(io.Discard, zero); err != nil {
		panic("bootscript: template " + name + ": " + err.Error())
	}
	return textTemplate[V]{t}
}

// render returns the template filled with v.
func (t textTemplate[V]) render(v V) string {
	var b strings.Builder
	if err := t.t.Execute(&b, v); err != nil {
		// newTemplate ran every placeholder against this type, and a
		// strings.Builder does not fail.
		panic("bootscript: template " + t.t.Name() + ": " + err.Error())
	}
	return b.String()
}

// plainNode reports whether n is text or a reference to one field.
func plainNode(n parse.Node) bool {
	switch n := n.(type) {
	case *parse.TextNode:
		return true
	case *parse.ActionNode:
		p := n.Pipe
		if len(p.Decl) != 0 || len(p.Cmds) != 1 || len(p.Cmds[0].Args) != 1 {
			return false
		}
		f, ok := p.Cmds[0].Args[0].(*parse.FieldNode)
		return ok && len(f.Ident) == 1
	}
	return false
}
