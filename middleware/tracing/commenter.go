package tracing

import (
	"encoding/hex"
	"strings"

	"go.opentelemetry.io/otel/trace"
)

// comment returns q with a sqlcommenter comment that carries sc appended:
//
//	SELECT 1 /*traceparent='00-<trace id>-<span id>-<flags>'*/
//
// with tracestate after traceparent when sc has one. Values are
// percent-encoded and single-quoted, keys sorted, as sqlcommenter specifies.
// A query ending in ';' gets the comment before it. The caller checks first
// that q may get one (commentable): it has no comment of its own, so it
// cannot end inside one.
func comment(q string, sc trace.SpanContext) string {
	const prefix = "/*traceparent='00-"
	var state string
	if sc.TraceState().Len() > 0 {
		state = sc.TraceState().String()
	}
	body, tail := strings.TrimRight(q, " \t\r\n\f\v"), ""
	if strings.HasSuffix(body, ";") {
		body, tail = strings.TrimRight(body[:len(body)-1], " \t\r\n\f\v"), ";"
	}
	var b strings.Builder
	b.Grow(len(body) + 1 + len(prefix) + 32 + 1 + 16 + 1 + 2 + 3 + len(tail) + len(",tracestate=''") + 3*len(state))
	b.WriteString(body)
	b.WriteByte(' ')
	b.WriteString(prefix)
	var buf [32]byte
	tid, sid := sc.TraceID(), sc.SpanID()
	hex.Encode(buf[:], tid[:])
	b.Write(buf[:32])
	b.WriteByte('-')
	hex.Encode(buf[:], sid[:])
	b.Write(buf[:16])
	b.WriteByte('-')
	hex.Encode(buf[:], []byte{byte(sc.TraceFlags())})
	b.Write(buf[:2])
	b.WriteByte('\'')
	if state != "" {
		b.WriteString(",tracestate='")
		percentEncode(&b, state)
		b.WriteByte('\'')
	}
	b.WriteString("*/")
	b.WriteString(tail)
	return b.String()
}

// percentEncode writes s with every byte but the URL-unreserved ones
// (letters, digits, '-', '.', '_', '~') written as %XX.
func percentEncode(b *strings.Builder, s string) {
	const upperhex = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(upperhex[c>>4])
		b.WriteByte(upperhex[c&15])
	}
}
