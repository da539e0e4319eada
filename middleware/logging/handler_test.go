package logging_test

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
)

// record is one log record as capture saw it, with its attributes
// flattened: a member k of group g is "g.k".
type record struct {
	ctx   context.Context
	level slog.Level
	msg   string
	attrs map[string]slog.Value
}

func (r record) has(key string) bool { _, ok := r.attrs[key]; return ok }

// String renders the record like a text handler would, keys sorted.
func (r record) String() string {
	keys := make([]string, 0, len(r.attrs))
	for k := range r.attrs {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	fmt.Fprintf(&b, "%s %q", r.level, r.msg)
	for _, k := range keys {
		fmt.Fprintf(&b, " %s=%q", k, r.attrs[k].String())
	}
	return b.String()
}

// capture is a slog.Handler that keeps every record at or above its level.
type capture struct {
	level  slog.Level
	mu     *sync.Mutex
	recs   *[]record
	prefix string
	pre    []slog.Attr
}

func newCapture(level slog.Level) *capture {
	return &capture{level: level, mu: new(sync.Mutex), recs: new([]record)}
}

func (h *capture) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level }

func (h *capture) Handle(ctx context.Context, r slog.Record) error {
	rec := record{ctx: ctx, level: r.Level, msg: r.Message, attrs: map[string]slog.Value{}}
	for _, a := range h.pre {
		flatten(rec.attrs, "", a)
	}
	r.Attrs(func(a slog.Attr) bool {
		flatten(rec.attrs, h.prefix, a)
		return true
	})
	h.mu.Lock()
	defer h.mu.Unlock()
	*h.recs = append(*h.recs, rec)
	return nil
}

func (h *capture) WithAttrs(as []slog.Attr) slog.Handler {
	c := *h
	c.pre = slices.Clone(h.pre)
	for _, a := range as {
		if h.prefix != "" {
			a.Key = h.prefix + a.Key
		}
		c.pre = append(c.pre, a)
	}
	return &c
}

func (h *capture) WithGroup(name string) slog.Handler {
	c := *h
	c.prefix = h.prefix + name + "."
	return &c
}

func flatten(m map[string]slog.Value, prefix string, a slog.Attr) {
	v := a.Value.Resolve()
	if v.Kind() == slog.KindGroup {
		for _, g := range v.Group() {
			flatten(m, prefix+a.Key+".", g)
		}
		return
	}
	m[prefix+a.Key] = v
}

// records returns a copy of what was logged so far.
func (h *capture) records() []record {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(*h.recs)
}

// find returns the records for which match is true.
func (h *capture) find(match func(record) bool) []record {
	var out []record
	for _, r := range h.records() {
		if match(r) {
			out = append(out, r)
		}
	}
	return out
}

func (h *capture) reset() {
	h.mu.Lock()
	defer h.mu.Unlock()
	*h.recs = nil
}

// dump renders every record, one a line, for failure messages.
func (h *capture) dump() string {
	var b strings.Builder
	for _, r := range h.records() {
		b.WriteString(r.String())
		b.WriteByte('\n')
	}
	return b.String()
}
