// Package corsorigintest holds the examples of corsorigin's rule that the
// tests of both sides check: corsorigin's own, the service's (through
// --cors-origins) and the stack's (through corsOrigins and the unit it
// writes), so an origin list one side takes the other takes too, written
// the same way.
package corsorigintest

// Example is an origin list as an operator writes it and what becomes of
// it. No entry has a comma or an empty entry: the service's flag splits
// at commas and drops blanks before the rule sees the list.
type Example struct {
	Origins []string
	// Want is what both sides use: the origins as browsers send them;
	// nil when the list is refused.
	Want []string
	// Bad is the first entry a refused list's error names, and Problem a
	// part of what it says is wrong with it.
	Bad, Problem string
}

// Examples returns accepted and refused lists. A function, not a
// variable, so no test can change what the next one gets.
func Examples() []Example {
	same := func(origins ...string) Example { return Example{Origins: origins, Want: origins} }
	refused := func(bad, problem string, origins ...string) Example {
		return Example{Origins: origins, Bad: bad, Problem: problem}
	}
	return []Example{
		same("*"),
		same("https://example.com"),
		same("http://localhost:3000", "https://a.example:8443"),
		same("https://*.example.com"),
		same("http://*.dev.example.com:3000", "https://app.example.net"),
		same("https://[::1]:8443"),
		same("https://xn--bcher-kva.example"),
		same("http://127.0.0.1:3000"),
		same("http://my_host.internal:3000"),
		// Written as browsers send them: lowercase, no trailing slash,
		// no default or zero-padded port, each once.
		{Origins: []string{"HTTPS://App.Example.COM/"}, Want: []string{"https://app.example.com"}},
		{Origins: []string{"https://*.Example.com:443/"}, Want: []string{"https://*.example.com"}},
		{Origins: []string{"http://a.example:80", "https://a.example:08443"}, Want: []string{"http://a.example", "https://a.example:8443"}},
		{Origins: []string{"https://a.example", "https://A.example/"}, Want: []string{"https://a.example"}},
		{Origins: []string{"http://[0:0::1]:3000"}, Want: []string{"http://[::1]:3000"}},
		{Origins: []string{"https://a.example:"}, Want: []string{"https://a.example"}},

		refused("*", "stands alone", "*", "https://a.example"),
		refused("*", "stands alone", "https://a.example", "*"),
		refused("https://*.com", "fewer than two labels after it", "https://*.com"),
		refused("https://*.com.", "fewer than two labels after it", "https://*.com."),
		refused("https://a.*.example.com", "not the whole first label", "https://a.*.example.com"),
		refused("https://app-*.example.com", "not the whole first label", "https://app-*.example.com"),
		refused("https://*.*.example.com", "not the whole first label", "https://*.*.example.com"),
		refused("*://app.example.com", "not the whole first label", "*://app.example.com"),
		refused("https://app.example.com:*", "not the whole first label", "https://app.example.com:*"),
		refused("*.example.com", "not the whole first label", "*.example.com"),
		refused("https://a.example/app", "has a path", "https://a.example/app"),
		refused("https://a.example//", "has a path", "https://a.example//"),
		refused("https://*.example.com/app", "has a path", "https://*.example.com/app"),
		refused("https://a.example?x=1", "has a query", "https://a.example?x=1"),
		refused("https://a.example?", "has a query", "https://a.example?"),
		refused("https://a.example#top", "has a fragment", "https://a.example#top"),
		refused("https://user@a.example", "user info", "https://user@a.example"),
		refused("https://a.example:99999", "port 99999", "https://a.example:99999"),
		refused("https://a.example:0", "port 0", "https://a.example:0"),
		refused("ftp://a.example", "not an http or https URL", "ftp://a.example"),
		refused("a.example", "not an http or https URL", "a.example"),
		refused("localhost:3000", "not an http or https URL", "localhost:3000"),
		refused("https://", "no host", "https://"),
		refused("https:a.example", "no host", "https:a.example"),
		refused("https://bücher.example", "not ASCII", "https://bücher.example"),
		refused("https://a$b.example", `has '$' in its host`, "https://a$b.example"),
		refused("https://[fe80::1%25en0]", "IPv6 zone", "https://[fe80::1%25en0]"),
		refused("https://a b.example", "not a URL", "https://a b.example"),
		refused("nope", "not an http or https URL", "https://a.example", "nope"),
	}
}
