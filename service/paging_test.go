package service

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/url"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// detailEntry is one entry of a details=true answer, decoded strictly.
type detailEntry struct {
	Name         string `json:"name"`
	Type         string `json:"type"`
	Size         *int64 `json:"size"`
	Modified     string `json:"modified"`
	ETag         string `json:"etag"`
	StorageClass string `json:"storageClass"`
}

// page is one answer of a listing, names or details, with its cursor.
type page struct {
	names   []string
	details []detailEntry
	next    string
}

// decodePage decodes a listing answer strictly, in either shape.
func decodePage(t testing.TB, body string, details bool) page {
	t.Helper()
	var p page
	var err error
	if details {
		p.details, p.next, err = decodeListing[detailEntry](body)
		for _, e := range p.details {
			p.names = append(p.names, e.Name)
		}
	} else {
		p.names, p.next, err = decodeListing[string](body)
	}
	if err != nil {
		t.Fatalf("body %.300q is not a listing: %v", body, err)
	}
	return p
}

// decodeListing decodes {"content":[E...],"next":"..."}, refusing unknown
// fields and a content that is not an array.
func decodeListing[E any](body string) ([]E, string, error) {
	var v struct {
		Content []E    `json:"content"`
		Next    string `json:"next"`
	}
	dec := json.NewDecoder(strings.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		return nil, "", err
	}
	if v.Content == nil {
		return nil, "", fmt.Errorf("content is not an array")
	}
	return v.Content, v.Next, nil
}

// model is the listing a tree must give, computed from its keys alone.
type model struct {
	keys  []string // sorted
	sizes map[string]int64
}

type modelEntry struct {
	name string
	dir  bool
	size int64
}

// list is the reference answer for directory prefix p ("" or "d/").
func (m model) list(p string) []modelEntry {
	files := map[string]int64{}
	dirs := map[string]bool{}
	for _, k := range m.keys {
		rel, ok := strings.CutPrefix(k, p)
		if !ok || rel == "" {
			continue
		}
		if i := strings.IndexByte(rel, '/'); i >= 0 {
			dirs[rel[:i]] = true
		} else {
			files[rel] = m.sizes[k]
		}
	}
	var out []modelEntry
	sortKey := map[string]string{}
	for n, size := range files {
		out = append(out, modelEntry{name: n, dir: dirs[n], size: size})
		sortKey[n] = n
	}
	for n := range dirs {
		if _, ok := files[n]; !ok {
			out = append(out, modelEntry{name: n, dir: true})
			sortKey[n] = n + "/"
		}
	}
	// S3 order of the first key that makes each name: an object sorts by
	// its name, a directory without one by name+"/".
	slices.SortFunc(out, func(a, b modelEntry) int { return strings.Compare(sortKey[a.name], sortKey[b.name]) })
	return out
}

// recursive is the reference answer of recursive=true below p.
func (m model) recursive(p string) []string {
	var out []string
	for _, k := range m.keys {
		if rel, ok := strings.CutPrefix(k, p); ok && rel != "" {
			out = append(out, rel)
		}
	}
	return out
}

// randomTree makes keys that stress dedupe and paging: names sharing
// prefixes with characters that sort before "/", an object and a
// directory of one name, markers, unicode, spaces, '+', '%', '#'.
func randomTree(r *rand.Rand) []string {
	atoms := []string{"a", "a!", "a-b", "a b", "a+", "a%20", "a#", "b", "é", "日本", "😀", "x (1)", "%41", "a.b"}
	seen := map[string]bool{}
	var keys []string
	add := func(k string) {
		if !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	for range 60 + r.IntN(60) {
		depth := 1 + r.IntN(3)
		parts := make([]string, depth)
		for i := range parts {
			parts[i] = atoms[r.IntN(len(atoms))]
		}
		k := strings.Join(parts, "/")
		if r.IntN(6) == 0 {
			k += "/" // a directory marker
		}
		add(k)
	}
	for i := range 2600 { // one directory larger than two S3 pages
		add(fmt.Sprintf("big/f%05d", i))
	}
	add("big/")
	slices.Sort(keys)
	return keys
}

// TestPagingProperties checks, over seeded random trees, that paging with
// random limits reassembles exactly the unpaged listing, that prefix=
// equals filtering the full listing, that details agree with the objects,
// and that recursive lists exactly the keys below the path.
func TestPagingProperties(t *testing.T) {
	t.Parallel()
	for seed := range uint64(3) {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			t.Parallel()
			r := rand.New(rand.NewPCG(seed, 42))
			keys := randomTree(r)
			f := startFakeS3(t, nil, nil)
			m := model{keys: keys, sizes: map[string]int64{}}
			for _, k := range keys {
				f.Put(t, k) // bodies of one byte
				m.sizes[k] = 1
				if strings.HasSuffix(k, "/") {
					m.sizes[k] = 1
				}
			}
			srv := testServer(t, fakeLister(f), Config{})
			dirs := map[string]bool{"": true}
			for _, k := range keys {
				for i := range len(k) {
					if k[i] == '/' {
						dirs[k[:i+1]] = true
					}
				}
			}
			for dir := range dirs {
				checkDir(t, r, srv.URL, m, dir)
			}
		})
	}
}

func escapePath(p string) string {
	segs := strings.Split(strings.TrimSuffix(p, "/"), "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return strings.Join(segs, "/")
}

func checkDir(t *testing.T, r *rand.Rand, base string, m model, dir string) {
	t.Helper()
	path := "/list-bucket-content"
	if dir != "" {
		path += "/" + escapePath(dir)
	}
	want := m.list(dir)
	var wantNames []string
	for _, e := range want {
		wantNames = append(wantNames, e.name)
	}
	full := decodePage(t, get(t, base, path).body, false)
	if !slices.Equal(full.names, wantNames) {
		t.Fatalf("GET %s: %q, want %q", path, full.names, wantNames)
	}

	details := decodePage(t, get(t, base, path+"?details=true").body, true)
	for i, e := range details.details {
		if i >= len(want) {
			break
		}
		w := want[i]
		wantType := map[bool]string{true: "directory", false: "file"}[w.dir]
		if e.Name != w.name || e.Type != wantType {
			t.Errorf("GET %s?details=true: entry %d = %s %q, want %s %q", path, i, e.Type, e.Name, wantType, w.name)
		}
		if !w.dir && (e.Size == nil || *e.Size != w.size || e.Modified == "" || e.ETag == "") {
			t.Errorf("GET %s?details=true: file %q has size %v modified %q etag %q, want size %d and both set", path, e.Name, e.Size, e.Modified, e.ETag, w.size)
		}
		if w.dir && (e.Size != nil || e.Modified != "" || e.ETag != "") {
			t.Errorf("GET %s?details=true: directory %q carries file details %+v", path, e.Name, e)
		}
	}
	if len(details.details) != len(want) {
		t.Errorf("GET %s?details=true: %d entries, want %d", path, len(details.details), len(want))
	}

	for _, opt := range []string{"", "&details=true", "&recursive=true"} {
		limit := 1 + r.IntN(40)
		if len(wantNames) > 500 || (opt == "&recursive=true" && len(m.recursive(dir)) > 500) {
			limit = 300 + r.IntN(700) // a page boundary inside S3 pages, few requests
		}
		var got []string
		q := fmt.Sprintf("?limit=%d%s", limit, opt)
		for pages := 0; ; pages++ {
			if pages > len(wantNames)+len(m.keys)+2 {
				t.Fatalf("GET %s%s: paging does not end", path, q)
			}
			resp := get(t, base, path+q)
			if resp.status != 200 {
				t.Fatalf("GET %s%s: %d %s", path, q, resp.status, resp.body)
			}
			p := decodePage(t, resp.body, opt == "&details=true")
			if len(p.names) > limit {
				t.Fatalf("GET %s%s: %d entries, more than the limit", path, q, len(p.names))
			}
			got = append(got, p.names...)
			if link := resp.header.Get("Link"); (link != "") != (p.next != "") {
				t.Fatalf("GET %s%s: Link %q with next %q", path, q, link, p.next)
			}
			if p.next == "" {
				break
			}
			q = fmt.Sprintf("?limit=%d%s&cursor=%s", limit, opt, p.next)
		}
		wantPaged := wantNames
		if opt == "&recursive=true" {
			wantPaged = m.recursive(dir)
		}
		if !slices.Equal(got, wantPaged) {
			t.Errorf("GET %s?limit=%d%s, all pages: %d names, want %d; first diff at %d", path, limit, opt, len(got), len(wantPaged), firstDiff(got, wantPaged))
		}
	}

	for _, p := range namePrefixes(wantNames) {
		var wantP []string
		for _, n := range wantNames {
			if strings.HasPrefix(n, p) {
				wantP = append(wantP, n)
			}
		}
		got := decodePage(t, get(t, base, path+"?prefix="+url.QueryEscape(p)).body, false)
		if !slices.Equal(got.names, wantP) && !(len(got.names) == 0 && len(wantP) == 0) {
			t.Errorf("GET %s?prefix=%s: %q, want %q", path, p, got.names, wantP)
		}
	}
}

// namePrefixes picks prefixes that cut through the names in useful ways.
func namePrefixes(names []string) []string {
	out := []string{"zzz-none"}
	step := max(1, len(names)/6)
	for i, n := range names {
		if i%step != 0 {
			continue
		}
		_, first := utf8.DecodeRuneInString(n)
		out = append(out, n[:first], n)
	}
	return out
}
