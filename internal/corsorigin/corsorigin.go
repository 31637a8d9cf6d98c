// Package corsorigin is the rule for the origins whose web pages may call
// bucketls across origins: what the service's --cors-origins accepts and
// its stack's corsOrigins setting validates and hands to the deployed
// unit. It is a leaf: it imports neither side, so the two never disagree
// about which origins are valid or how one is written.
//
// A browser compares the Origin it sends with the configured origins as
// strings, so Parse writes each origin as browsers serialize it (RFC 6454,
// section 6.1): lowercase, no trailing slash, no default port. What no
// browser can ever send (a path, a query, a port out of range, a "*" that
// is not a whole first label) is refused instead of kept as a setting
// that silently matches nothing.
package corsorigin

import (
	"fmt"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Any is the entry that allows every origin. It stands alone: with others
// beside it, the others would mean nothing.
const Any = "*"

// The fixes the errors suggest.
const (
	originFix = "write scheme://host or scheme://host:port with http or https, like https://app.example or http://localhost:3000"
	wildFix   = "write the * as the whole first label of a host with at least two more, like https://*.example.com, or list the origins"
)

// Error is what is wrong with one entry of an origin list.
type Error struct {
	Origin  string // the entry as given
	Problem string // what is wrong with it, such as "has a path"
	Fix     string // what to write instead
}

// Error says the entry, its problem and the fix on one line.
func (e *Error) Error() string { return fmt.Sprintf("%q %s; %s", e.Origin, e.Problem, e.Fix) }

// Errors are the problems of a list, one per bad entry, in list order.
type Errors []*Error

// Error says the first problem and how many more there are.
func (es Errors) Error() string {
	if len(es) == 1 {
		return es[0].Error()
	}
	return fmt.Sprintf("%v (and %d more)", es[0], len(es)-1)
}

// Parse checks list and returns its origins as browsers send them, each
// once, in the order given: ["*"] alone, or http(s) origins whose host may
// start with a wildcard label ("https://*.example.com" stands for
// https://app.example.com, one whole label, as in a wildcard
// certificate). Case, spaces around an entry, one trailing slash and a
// default or zero-padded port do not matter. An empty list is nil: no
// cross-origin calls. A list with a bad entry returns an Errors naming
// every bad entry.
func Parse(list []string) ([]string, error) {
	var out []string
	var errs Errors
	for _, entry := range list {
		o, err := canonical(entry)
		if err == nil && o == Any && len(list) > 1 {
			err = &Error{entry, "allows every origin, so it stands alone", "give it alone, or list the origins without it"}
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if !slices.Contains(out, o) {
			out = append(out, o)
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return out, nil
}

// canonical returns entry as a browser would send it in Origin, or what is
// wrong with it.
func canonical(entry string) (string, *Error) {
	bad := func(problem, fix string) (string, *Error) { return "", &Error{entry, problem, fix} }
	o := strings.TrimSpace(entry)
	switch o {
	case "":
		return bad("is empty", "leave it out")
	case Any:
		return Any, nil
	}
	before, after, wild := strings.Cut(o, "*")
	if wild {
		// Anything else would be a literal "*" that no browser sends.
		if !strings.HasSuffix(before, "://") || !strings.HasPrefix(after, ".") || strings.Contains(after, "*") {
			return bad("has a * that is not the whole first label of the host", wildFix)
		}
		o = before + "x" + after // checked as an origin the wildcard stands for
	}
	u, err := url.Parse(o)
	switch {
	case err != nil:
		return bad("is not a URL", originFix)
	case u.Scheme != "http" && u.Scheme != "https": // url.Parse lowercases the scheme
		return bad("is not an http or https URL", originFix)
	case u.User != nil:
		return bad("has user info (name@), which no origin has", originFix)
	case u.Hostname() == "":
		return bad("has no host", originFix)
	case u.Path != "" && u.Path != "/":
		return bad("has a path, which no origin has", originFix)
	case u.RawQuery != "" || u.ForceQuery:
		return bad("has a query, which no origin has", originFix)
	case strings.Contains(o, "#"):
		return bad("has a fragment, which no origin has", originFix)
	}
	host, e := canonicalHost(entry, u.Hostname())
	if e != nil {
		return "", e
	}
	if wild {
		if labels := strings.Split(strings.TrimSuffix(host, "."), "."); len(labels) < 3 {
			return bad("has a wildcard with fewer than two labels after it, which would allow a whole top-level domain", wildFix)
		}
		host = "*" + strings.TrimPrefix(host, "x")
	}
	port, e := canonicalPort(entry, u.Scheme, u.Port())
	if e != nil {
		return "", e
	}
	return u.Scheme + "://" + host + port, nil
}

// canonicalHost returns a host as browsers send it: a name in lowercase
// ASCII (IDNs arrive as punycode), or an IPv6 address in brackets in its
// shortest form. Names have only letters, digits, '-', '.' and '_', which
// also lets the stack write the origins into the unit unquoted.
func canonicalHost(entry, host string) (string, *Error) {
	if strings.Contains(host, ":") {
		addr, err := netip.ParseAddr(host)
		switch {
		case err != nil:
			return "", &Error{entry, "has an IPv6 address that does not parse", originFix}
		case addr.Zone() != "":
			return "", &Error{entry, "has an IPv6 zone (%), which no origin has", originFix}
		}
		return "[" + addr.String() + "]", nil
	}
	host = strings.ToLower(host)
	for _, c := range host {
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-', c == '.', c == '_':
		case c > 0x7f:
			return "", &Error{entry, "has a host that is not ASCII", "write the host as browsers send it, in punycode (xn--...)"}
		default:
			return "", &Error{entry, fmt.Sprintf("has %q in its host, which a host name cannot have", c), originFix}
		}
	}
	return host, nil
}

// canonicalPort returns ":port", or "" for the scheme's default port,
// which browsers leave out.
func canonicalPort(entry, scheme, port string) (string, *Error) {
	if port == "" {
		return "", nil
	}
	n, err := strconv.Atoi(port)
	switch {
	case err != nil || n < 1 || n > 65535:
		return "", &Error{entry, "has port " + port + ", outside 1 to 65535", originFix}
	case scheme == "https" && n == 443, scheme == "http" && n == 80:
		return "", nil
	}
	return ":" + strconv.Itoa(n), nil
}
