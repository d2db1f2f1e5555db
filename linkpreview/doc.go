// Package linkpreview fetches a web page on a user's behalf and reports
// what the page says about itself: its title, a short description, the
// site's name and an image, for the preview a chat client shows under a
// link.
//
// The package knows nothing of HTTP APIs, users or authentication. The
// gateway decodes a request, calls [Fetcher.Fetch] and encodes the
// [Preview]; it answers [ErrRefused] and every other error as the client's
// fault, since the URL came from the client.
//
// # What it fetches
//
// One GET of an http or https URL, following at most Config.MaxRedirects
// redirects. An HTML page (text/html, application/xhtml+xml, or no
// Content-Type) is read up to Config.MaxBytes and decoded from the charset
// it declares. An image (image/*) is its own preview: its URL is the
// image. Anything else, and any status other than 2xx, is an error.
//
// From the page it reads, in order of preference: the OpenGraph
// properties (og:title, og:description, og:site_name, og:image), then the
// Twitter card ones (twitter:title, twitter:description, twitter:image),
// then <title>, <meta name=description>, <meta name=application-name>,
// <link rel=image_src> and the first <img>. Image references are resolved
// against the final URL and kept only when they are http or https URLs.
// When the page lists OpenGraph images with widths, the quality (1 to 9)
// chooses the one closest to quality×160 pixels wide; otherwise the first
// image wins.
//
// # Addresses it refuses, and why
//
// The URL comes from a user, but the connection comes from the gateway,
// inside its network: without a guard, a preview is a way to read the
// cloud metadata service (169.254.169.254), the XMPP server's admin API or
// anything else only the gateway can reach (server-side request forgery).
// So the fetcher connects only to public unicast addresses, on ports 80
// and 443 by default, and checks at three points:
//
//   - before any connection, the URL: its scheme is http or https, it
//     carries no credentials, an IP literal is a public one (IPv4-mapped
//     and NAT64 forms included, zones refused), and the host is not an
//     IPv4 address in a form other than dotted decimal (2130706433,
//     0x7f000001, 0177.0.0.1, 127.1), which some resolvers turn into
//     addresses although the guard would see a name;
//   - every redirect, the same way;
//   - when dialling, the address actually being connected to, after DNS
//     resolution (code.dny.dev/ssrf as the dialer's Control function), so
//     a name that resolves to a refused address is refused too, even when
//     its answer changes between two lookups (DNS rebinding).
//
// No proxy is ever used, whatever the environment says: a proxy would
// connect on the fetcher's behalf, where the dial-time check cannot see.
// Config.Allow opens chosen ranges (an intranet's wiki, a test server on
// loopback) and Config.Ports other ports; both are the operator's choice,
// never the user's. Every refusal is reported as [ErrRefused].
//
// # The cache
//
// A preview is kept for Config.CacheTTL (10 minutes by default), keyed by
// the URL as given and the quality, so a link posted into a busy room is
// fetched once, not once per reader. The cache holds at most
// Config.CacheSize previews: when it is full, expired ones are dropped
// first, then arbitrary ones. Failures are not kept. A negative CacheTTL
// turns the cache off.
//
// # Limits
//
// One fetch, redirects and reading included, ends after Config.Timeout.
// At most 16 fetches run at once per Fetcher; more wait for a slot or for
// their context to end. Response headers are limited to 64 KiB and the
// page to Config.MaxBytes; the parser also stops after a million tokens,
// so a page of tiny tokens costs bounded work. A reported title or site
// name has at most 300 runes, a description at most 1000, and an image URL
// at most [MaxURL] bytes; text is made valid UTF-8 without control
// characters and with white space collapsed, so a client can show it as
// it is. No connection is kept alive after a fetch.
//
// # Concurrency
//
// A [Fetcher] is safe for concurrent use and starts no goroutines of its
// own beyond those of the HTTP client during a fetch.
package linkpreview
