// bucketls viewer-request function for CloudFront Functions (runtime
// cloudfront-js-2.0). It runs on every request before CloudFront looks in
// its cache, and does two jobs:
//
// 1. /metrics is the service's own, for an operator inside the VPC: the
//    distribution answers 404 for it without asking the origin. The path
//    is percent-decoded first, as the service's router decodes it, so
//    /%6Detrics cannot slip past.
// 2. The Accept header is replaced by one of two values, "text/html" or
//    "application/json", by the same rule the service negotiates with
//    (service/index.go, prefersHTML): every browser sends its own Accept
//    string, and keyed on the raw header the cache would hold one copy of
//    each listing per browser version. The origin receives the normalised
//    value, so what is cached under a key is what that key asks for.
//
// Written in ECMAScript 5.1, which every CloudFront Functions runtime
// supports; the Go test runs it under Node.js in an empty context, with
// no require, process or console, as CloudFront would.

var HTML = 'text/html';
var JSON_TYPE = 'application/json';

function handler(event) {
    var request = event.request;
    if (isInternal(request.uri)) {
        return {
            statusCode: 404,
            statusDescription: 'Not Found',
            headers: { 'cache-control': { value: 'no-store' } }
        };
    }
    request.headers['accept'] = { value: prefersHTML(acceptOf(request.headers)) ? HTML : JSON_TYPE };
    return request;
}

// isInternal reports whether uri names /metrics, after percent-decoding.
// A malformed escape goes on to the origin, which refuses it.
function isInternal(uri) {
    var path;
    try {
        path = decodeURIComponent(uri);
    } catch (e) {
        return false;
    }
    return path === '/metrics' || path.indexOf('/metrics/') === 0;
}

// acceptOf joins every Accept header of the request with commas, as the
// service reads them.
function acceptOf(headers) {
    var h = headers['accept'];
    if (!h) {
        return '';
    }
    if (!h.multiValue) {
        return h.value;
    }
    var values = [];
    for (var i = 0; i < h.multiValue.length; i++) {
        values.push(h.multiValue[i].value);
    }
    return values.join(',');
}

// prefersHTML reports whether an Accept header ranks HTML strictly above
// JSON; a tie keeps JSON. A copy of the service's rule: JSON's rank comes
// from the most specific range that covers it (application/json, then
// application/*, then */*), HTML's from text/html or application/xhtml+xml.
function prefersHTML(accept) {
    var html = 0, jsonQ = 0, jsonSpec = -1;
    var parts = accept.split(',');
    for (var i = 0; i < parts.length; i++) {
        var params = parts[i].split(';');
        var media = params[0].trim().toLowerCase();
        var q = 1;
        for (var j = 1; j < params.length; j++) {
            var p = params[j].trim();
            var eq = p.indexOf('=');
            var key = (eq < 0 ? p : p.slice(0, eq)).trim().toLowerCase();
            var f = quality(eq < 0 ? '' : p.slice(eq + 1).trim());
            if (key === 'q' && f !== null) {
                q = f;
            }
        }
        if (media === 'text/html' || media === 'application/xhtml+xml') {
            html = Math.max(html, q);
        }
        var spec = -1;
        if (media === 'application/json') {
            spec = 2;
        } else if (media === 'application/*') {
            spec = 1;
        } else if (media === '*/*') {
            spec = 0;
        }
        if (spec > jsonSpec || (spec === jsonSpec && spec >= 0 && q > jsonQ)) {
            jsonQ = q;
            jsonSpec = spec;
        }
    }
    return html > 0 && html > jsonQ;
}

// quality parses a q value as the service does (a decimal number from 0
// to 1), or returns null for anything else, which leaves q at 1.
function quality(s) {
    if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s)) {
        return null;
    }
    var f = Number(s);
    return f >= 0 && f <= 1 ? f : null;
}
