package databases

import "testing"

// TestStartsRawTx checks which statements flag a connection as possibly
// inside a transaction begun outside BeginTx.
func TestStartsRawTx(t *testing.T) {
	tests := []struct {
		query string
		want  map[*dialect]bool // dialects for which it starts one; others do not
	}{
		{"SELECT 1", nil},
		{"select 1", nil},
		{"Insert into t values (1)", nil},
		{"WITH x AS (SELECT 1) SELECT * FROM x", nil},
		{"Bel", nil},
		{"SET AUTOCOMMIT = 0", map[*dialect]bool{dialectMySQL: true}},
		{"begin", all(true)},
		{"  BEGIN TRANSACTION", all(true)},
		{"-- note\nBegin;", all(true)},
		{"/* x */ START TRANSACTION", all(true)},
		{"(BEGIN", all(true)},
		{"BEGINNING", nil},
		{"SAVEPOINT a", map[*dialect]bool{dialectSQLite: true}},
		{"SET autocommit = 0", map[*dialect]bool{dialectMySQL: true}},
		{"SET search_path = x", nil},
		{"UPDATE t SET begin = 1", nil},
		{"'BEGIN'", nil},
		{"-- BEGIN", nil},
		{"/* BEGIN", nil},
		{"", nil},
	}
	for _, tt := range tests {
		for _, d := range []*dialect{dialectSQLite, dialectPostgres, dialectMySQL} {
			if got := d.startsRawTx(tt.query); got != tt.want[d] {
				t.Errorf("%s: startsRawTx(%q) = %v, want %v", d, tt.query, got, tt.want[d])
			}
		}
	}
}

func all(v bool) map[*dialect]bool {
	return map[*dialect]bool{dialectSQLite: v, dialectPostgres: v, dialectMySQL: v}
}
