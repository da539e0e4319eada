package databases

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestReplicaHealthBackoff: each failure in a row doubles how long a
// replica is skipped, from 1 s up to 30 s, and an answer resets it.
func TestReplicaHealthBackoff(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var h replicaHealth
	for i, want := range []time.Duration{1, 2, 4, 8, 16, 30, 30} {
		reason := h.failed(now, errors.New("connection refused"))
		if got := h.downUntil.Sub(now); got != want*time.Second {
			t.Errorf("failure %d: skipped for %v; want %v", i+1, got, want*time.Second)
		}
		if !strings.Contains(reason, "connection refused") || !strings.Contains(reason, "tried again in") {
			t.Errorf("failure %d: reason %q does not say why and when", i+1, reason)
		}
	}
	h.connected()
	if why := h.skip(now, 0); why != "" {
		t.Errorf("after an answer: skipped (%s)", why)
	}
	h.failed(now, errors.New("refused"))
	if got := h.downUntil.Sub(now); got != time.Second {
		t.Errorf("first failure after an answer: skipped for %v; want 1s", got)
	}
}

// TestReplicaHealthSkip: a replica is skipped while it is down, and while
// the lag read within the last second is over max_replica_lag.
func TestReplicaHealthSkip(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		h      *replicaHealth
		maxLag time.Duration
		want   string // a part of the reason, or "" for usable
	}{
		{name: "never heard of", h: &replicaHealth{}, want: ""},
		{name: "down", h: &replicaHealth{downUntil: now.Add(time.Second), lastErr: errors.New("refused")}, want: "unreachable (refused)"},
		{name: "back up", h: &replicaHealth{downUntil: now, lastErr: errors.New("refused")}, want: ""},
		{name: "lag over the bound", h: &replicaHealth{lag: 3 * time.Second, lagKnown: true, lagAt: now}, maxLag: time.Second,
			want: "lag 3s exceeds max_replica_lag 1s"},
		{name: "lag within the bound", h: &replicaHealth{lag: 500 * time.Millisecond, lagKnown: true, lagAt: now}, maxLag: time.Second, want: ""},
		{name: "lag read too long ago", h: &replicaHealth{lag: 3 * time.Second, lagKnown: true, lagAt: now.Add(-replicaLagEvery)}, maxLag: time.Second, want: ""},
		{name: "lag without max_replica_lag", h: &replicaHealth{lag: time.Hour, lagKnown: true, lagAt: now}, want: ""},
		{name: "replication stopped", h: &replicaHealth{lag: lagStopped, lagKnown: true, lagAt: now}, maxLag: time.Second,
			want: "replication is not running"},
	}
	for _, tt := range tests {
		got := tt.h.skip(now, tt.maxLag)
		if (got == "") != (tt.want == "") || !strings.Contains(got, tt.want) {
			t.Errorf("%s: skip = %q; want %q", tt.name, got, tt.want)
		}
	}
}

// TestReplicaHealthDedupe: ErrNoReplica names each replica once, with the
// first reason given for it.
func TestReplicaHealthDedupe(t *testing.T) {
	in := []string{"r1:5432: unreachable (refused)", "r2:5432: lag 3s", "r1:5432: unreachable", "r3:5432: x: y"}
	want := []string{"r1:5432: unreachable (refused)", "r2:5432: lag 3s", "r3:5432: x: y"}
	if got := dedupe(in); !reflect.DeepEqual(got, want) {
		t.Errorf("dedupe = %q; want %q", got, want)
	}
}
