package logging_test

import (
	"strings"
	"testing"

	"github.com/go-databases/databases/internal/dbtest"
	"github.com/go-databases/databases/middleware/logging"
)

// TestDriverQueryLiterals runs queries with a secret in a literal on every
// backend: the records show it as '?' unless the query has a placeholder,
// and as written with WithQueryLiterals.
func TestDriverQueryLiterals(t *testing.T) {
	const secret = "hunter2"
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		for _, literals := range []bool{false, true} {
			var opts []logging.Option
			if literals {
				opts = append(opts, logging.WithQueryLiterals())
			}
			db, h := open(t, b.URL, opts...)
			table := createTable(t, db)
			queries := []struct {
				run    func() error
				masked bool // the secret is masked by default
			}{
				{func() error {
					_, err := db.Exec("INSERT INTO " + table + " (id, name) VALUES (1, '" + secret + "')")
					return err
				}, true},
				{func() error {
					var n int
					return db.QueryRow("SELECT count(*) FROM " + table + " WHERE '" + secret + "' = '" + secret + "'").Scan(&n)
				}, true},
				{func() error {
					stmt, err := db.Prepare("UPDATE " + table + " SET name = '" + secret + "' WHERE id = 1")
					if err != nil {
						return err
					}
					defer stmt.Close()
					_, err = stmt.Exec()
					return err
				}, true},
				{func() error { // fails: the error record is masked too
					_, err := db.Exec("INSERT INTO " + table + "_missing (name) VALUES ('" + secret + "')")
					if err == nil {
						t.Fatal("insert into a missing table succeeded")
					}
					return nil
				}, true},
				{func() error {
					_, err := db.Exec("UPDATE "+table+" SET name = '"+secret+"' WHERE id = ?", 1)
					return err
				}, false},
			}
			for i, q := range queries {
				before := len(h.records())
				if err := q.run(); err != nil {
					t.Fatalf("query %d: %v", i, err)
				}
				recs := h.records()[before:]
				shown := false
				for _, r := range recs {
					text := r.attrs[logging.KeyQuery].String() + " " + r.attrs[logging.KeyNativeQuery].String()
					shown = shown || strings.Contains(text, secret)
				}
				if want := literals || !q.masked; shown != want {
					t.Errorf("query %d (literals %v): the secret shown %v, want %v\n%s", i, literals, shown, want, h.dump())
				}
			}
		}
	})
}

// TestDriverArgsTruncated binds long string and []byte arguments with
// WithArgs: each is logged cut to the limit, with its length in
// db.args.truncated, and a 40 MiB argument makes a small record.
func TestDriverArgsTruncated(t *testing.T) {
	tests := []struct {
		name   string
		opts   []logging.Option
		size   int // of the argument
		logged int // bytes of it logged
		sqlite bool
	}{
		{name: "default limit", size: 1 << 20, logged: logging.DefaultArgsLimit},
		{name: "40 MiB", size: 40 << 20, logged: logging.DefaultArgsLimit, sqlite: true},
		{name: "WithArgsLimit", opts: []logging.Option{logging.WithArgsLimit(1001)}, size: 1 << 20, logged: 1001},
		{name: "at the limit", size: logging.DefaultArgsLimit, logged: logging.DefaultArgsLimit},
		{name: "no limit", opts: []logging.Option{logging.WithArgsLimit(0)}, size: 5000, logged: 5000},
	}
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		for _, tt := range tests {
			if tt.sqlite && b.Dialect != "sqlite" {
				continue // MySQL's max_allowed_packet is smaller
			}
			t.Run(tt.name, func(t *testing.T) {
				db, h := open(t, b.URL, append([]logging.Option{logging.WithArgs()}, tt.opts...)...)
				s := strings.Repeat("é", tt.size/2) // two bytes each: an odd limit cuts inside one
				var n1, n2 int64
				if err := db.QueryRow("SELECT length(?), length(?)", s, []byte(s)).Scan(&n1, &n2); err != nil {
					t.Fatal(err)
				}
				recs := h.find(func(r record) bool { return r.has(logging.KeyArgValues + ".1") })
				if len(recs) != 1 {
					t.Fatalf("%d records with argument values; want 1\n%s", len(recs), h.dump())
				}
				r := recs[0]
				if n := len(r.String()); n > 6*tt.logged+1000 { // a []byte shows as [195 169 …]
					t.Errorf("a record of %d bytes for a %d-byte argument", n, tt.size)
				}
				str := r.attrs[logging.KeyArgValues+".1"].String()
				raw, _ := r.attrs[logging.KeyArgValues+".2"].Any().([]byte)
				wantStr := s[:tt.logged-tt.logged%2] // whole characters only
				if str != wantStr || string(raw) != s[:tt.logged] {
					t.Errorf("logged %d and %d bytes; want %d and %d", len(str), len(raw), len(wantStr), tt.logged)
				}
				for _, key := range []string{"1", "2"} {
					got, cut := r.attrs[logging.KeyArgTruncated+"."+key]
					if want := tt.logged < tt.size; cut != want || cut && got.Int64() != int64(tt.size) {
						t.Errorf("%s.%s = %v (%v); want %d (%v)", logging.KeyArgTruncated, key, got, cut, tt.size, want)
					}
				}
			})
		}
	})
}
