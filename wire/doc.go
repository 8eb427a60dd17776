// Package wire parses and builds the byte layouts seqack speaks: IPv4
// (RFC 791), IPv6 with its extension headers (RFC 8200), TCP with its
// options (RFC 9293, 7323, 2018), ICMPv4 (RFC 792) and ICMPv6 (RFC 4443),
// and the Internet checksum (RFC 1071, 1624) with IPv4/IPv6 pseudo-headers.
// IP fragments (RFC 791 §3.2, RFC 8200 §4.5) are refused by ParseIP with
// ErrFragment; ParseFragment reads one for a reassembler,
// PutReassembledHeader writes the whole packet's header, and
// BuildFragment cuts a packet for a link's MTU.
//
// Parsing never trusts its input: every malformed case returns a typed
// error (see ParseError) and never panics. Building writes into a buffer
// the caller supplies and does not allocate.
//
// wire knows nothing of connections or time; the tcp package gives the
// fields meaning.
package wire
