// Package edgefunc holds the code of the CloudFront Function that the
// distribution of the cdn setting runs on every viewer request (see
// viewer-request.js for what it does and why), so that the stack embeds
// the very file the tests run under Node.js.
package edgefunc

import _ "embed"

// ViewerRequest is the JavaScript source of the viewer-request function.
//
//go:embed viewer-request.js
var ViewerRequest string

// Runtime is the CloudFront Functions runtime ViewerRequest is written
// for. The code keeps to ECMAScript 5.1, which every runtime supports;
// 2.0 is the one AWS recommends for new functions
// (https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/functions-javascript-runtime-features.html).
const Runtime = "cloudfront-js-2.0"

// MaxCodeSize is CloudFront Functions' quota on a function's code, in
// bytes (10 KB; https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/cloudfront-limits.html).
const MaxCodeSize = 10 * 1024
