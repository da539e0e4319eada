package databases

import (
	"testing"
)

// TestConnModeChosenOnce: newConnector picks the mode from the URL option
// or WithForceRollback, and the mode alone decides what differs: replicas
// routed, a Close needed, statements kept.
func TestConnModeChosenOnce(t *testing.T) {
	const replicas = "postgres://u@primary:5432/db?stmt_cache=16&replicas=r1:5432"
	for _, tt := range []struct {
		name          string
		url           string
		opts          []Option
		forceRollback bool
	}{
		{"usual", replicas, nil, false},
		{"URL option", replicas + "&force_rollback=true", nil, true},
		{"WithForceRollback", replicas, []Option{WithForceRollback()}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, err := newConnector(tt.url, &Driver{}, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			_, shared := c.mode.(*shared)
			if shared != tt.forceRollback {
				t.Fatalf("mode %T; want force_rollback's: %v", c.mode, tt.forceRollback)
			}
			if routed := c.replicas != nil; routed == tt.forceRollback {
				t.Errorf("replicas routed: %v; force_rollback %v", routed, tt.forceRollback)
			}
			if _, closes := c.public().(closingConnector); tt.forceRollback && !closes {
				t.Error("a force_rollback connector has no Close: its shared connection would stay open")
			}
			if kept := c.stmts > 0; kept == tt.forceRollback {
				t.Errorf("statement cache %d; force_rollback %v", c.stmts, tt.forceRollback)
			}
		})
	}
}
