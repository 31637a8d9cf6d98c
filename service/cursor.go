package service

import (
	"encoding/base64"
	"encoding/binary"
	"hash/fnv"
	"strings"
	"unicode/utf8"
)

// A cursor is a Position in a URL: opaque to clients, versioned, bound to
// the listing it came from and small. It carries storage keys, not a
// server-side handle, so any instance can continue any listing, and it
// reaches S3 as StartAfter, so page N costs what page 1 costs.
//
// Layout, base64url without padding:
//
//	version (1 byte) | binding hash (8 bytes, FNV-64a) |
//	uvarint len(key) | key | uvarint len(open) | open[last] |
//	uvarint len(open[i]) for every other open name, shortest first
//
// The open names form a chain of prefixes (see dedupe), so only the
// longest is written out in full.
const cursorVersion = 1

// maxCursorLen bounds a cursor as it arrives: a 1,024-byte key and a full
// chain of open names fit well within it.
const maxCursorLen = 8192

var errBadCursor = queryErrorf("cursor is invalid or belongs to another listing; start again without it")

func bindingHash(binding string) [8]byte {
	h := fnv.New64a()
	h.Write([]byte(binding))
	var sum [8]byte
	binary.BigEndian.PutUint64(sum[:], h.Sum64())
	return sum
}

// encodeCursor writes p for the listing identified by binding.
func encodeCursor(p *Position, binding string) string {
	sum := bindingHash(binding)
	b := make([]byte, 0, 16+len(p.Key)+len(p.Open)*3+maxOpenLen(p.Open))
	b = append(b, cursorVersion)
	b = append(b, sum[:]...)
	b = binary.AppendUvarint(b, uint64(len(p.Key)))
	b = append(b, p.Key...)
	b = binary.AppendUvarint(b, uint64(len(p.Open)))
	if n := len(p.Open); n > 0 {
		top := p.Open[n-1]
		b = binary.AppendUvarint(b, uint64(len(top)))
		b = append(b, top...)
		for _, o := range p.Open[:n-1] {
			b = binary.AppendUvarint(b, uint64(len(o)))
		}
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func maxOpenLen(open []string) int {
	if len(open) == 0 {
		return 0
	}
	return len(open[len(open)-1])
}

// decodeCursor reads a cursor for the listing identified by binding. Any
// fault, a cursor of another listing included, is one 400 error: a client
// can do nothing with more detail, and it leaks nothing.
func decodeCursor(s, binding string) (*Position, error) {
	if s == "" || len(s) > maxCursorLen {
		return nil, errBadCursor
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) < 9 || b[0] != cursorVersion {
		return nil, errBadCursor
	}
	if sum := bindingHash(binding); string(b[1:9]) != string(sum[:]) {
		return nil, errBadCursor
	}
	r := cursorReader{b: b[9:]}
	key := r.str()
	n := r.uvarint()
	if r.bad || n > maxPathLen {
		return nil, errBadCursor
	}
	p := &Position{Key: key}
	if n > 0 {
		top := r.str()
		lens := make([]int, n-1)
		for i := range lens {
			lens[i] = int(r.uvarint())
		}
		prev := 0
		for _, l := range lens {
			if r.bad || l <= prev || l >= len(top) {
				return nil, errBadCursor
			}
			p.Open = append(p.Open, top[:l])
			prev = l
		}
		p.Open = append(p.Open, top)
	}
	if r.bad || len(r.b) != 0 || !validKey(p.Key) {
		return nil, errBadCursor
	}
	for _, o := range p.Open {
		if !validKey(o) || strings.HasSuffix(o, "/") {
			return nil, errBadCursor
		}
	}
	return p, nil
}

// validKey accepts what a relative S3 key handed out by a walk can be:
// valid UTF-8 of XML characters (see isXMLChar), as S3 sends keys in XML.
// A forged key with anything else would reach S3 as StartAfter and come
// back as an answer the SDK cannot parse, a 502 anyone could cause. Tabs
// and line breaks stay valid: S3 lists keys holding them, and a page may
// end on one.
func validKey(k string) bool {
	return k != "" && len(k) <= maxPathLen && utf8.ValidString(k) && !strings.ContainsFunc(k, func(r rune) bool { return !isXMLChar(r) })
}

// cursorReader reads the varint-framed fields of a cursor; any overrun
// sets bad and yields zero values.
type cursorReader struct {
	b   []byte
	bad bool
}

func (r *cursorReader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.bad = true
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *cursorReader) str() string {
	n := r.uvarint()
	if r.bad || n > uint64(len(r.b)) || n > maxPathLen {
		r.bad = true
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}

// A view's cursor (view.go) is where its last page ended in the view's
// order, not in S3's: version 2, the same binding hash, then a flags byte
// (1: a directory), the sort value as a varint and the name.
const viewCursorVersion = 2

// isViewCursor reports whether s claims to be a view's cursor; decoding
// still checks everything.
func isViewCursor(s string) bool {
	b, err := base64.RawURLEncoding.DecodeString(s[:min(len(s), 4)])
	return err == nil && len(b) > 0 && b[0] == viewCursorVersion
}

// encodeViewCursor writes p for the view identified by binding.
func encodeViewCursor(p *viewPos, binding string) string {
	sum := bindingHash(binding)
	b := make([]byte, 0, 24+len(p.name))
	b = append(b, viewCursorVersion)
	b = append(b, sum[:]...)
	var flags byte
	if p.dir {
		flags = 1
	}
	b = append(b, flags)
	b = binary.AppendVarint(b, p.value)
	b = binary.AppendUvarint(b, uint64(len(p.name)))
	b = append(b, p.name...)
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeViewCursor reads a view's cursor for the view identified by
// binding; like decodeCursor, every fault is the one 400 error.
func decodeViewCursor(s, binding string) (*viewPos, error) {
	if s == "" || len(s) > maxCursorLen {
		return nil, errBadCursor
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) < 10 || b[0] != viewCursorVersion || b[9] > 1 {
		return nil, errBadCursor
	}
	if sum := bindingHash(binding); string(b[1:9]) != string(sum[:]) {
		return nil, errBadCursor
	}
	p := &viewPos{dir: b[9] == 1}
	v, n := binary.Varint(b[10:])
	if n <= 0 {
		return nil, errBadCursor
	}
	p.value = v
	r := cursorReader{b: b[10+n:]}
	p.name = r.str()
	if r.bad || len(r.b) != 0 || !validKey(p.name) {
		return nil, errBadCursor
	}
	return p, nil
}
