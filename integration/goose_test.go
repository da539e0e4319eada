package integration

import (
	"context"
	"database/sql"
	"embed"
	"io/fs"
	"reflect"
	"testing"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/database"

	"github.com/go-databases/databases"
	"github.com/go-databases/databases/internal/dbtest"
)

//go:embed testdata/migrations/*.sql
var migrations embed.FS

// gooseDriver is the driver name goose opens: migration tools call
// sql.Open(name, url), so the options go in Register.
const gooseDriver = "databases-goose"

func init() { databases.Register(gooseDriver) }

// gooseDialect is goose's dialect for the backend.
func gooseDialect(dialect string) database.Dialect {
	switch dialect {
	case "postgres":
		return database.DialectPostgres
	case "mysql":
		return database.DialectMySQL
	default:
		return database.DialectSQLite3
	}
}

func TestGoose(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		ctx := context.Background()
		db, err := sql.Open(gooseDriver, b.URL)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		notes, versions := dbtest.Name("goose_notes"), dbtest.Name("goose_db_version")
		dropAfter(t, db, notes, versions)
		t.Setenv("GOOSE_NOTES_TABLE", notes)

		store, err := database.NewStore(gooseDialect(b.Dialect), versions)
		if err != nil {
			t.Fatal(err)
		}
		dir, err := fs.Sub(migrations, "testdata/migrations")
		if err != nil {
			t.Fatal(err)
		}
		p, err := goose.NewProvider("", db, dir, goose.WithStore(store), goose.WithDisableGlobalRegistry(true))
		if err != nil {
			t.Fatal(err)
		}
		results, err := p.Up(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(results) != 2 {
			t.Fatalf("Up applied %d migrations; want 2", len(results))
		}
		if v, err := p.GetDBVersion(ctx); err != nil || v != 2 {
			t.Fatalf("GetDBVersion = %d, %v; want 2", v, err)
		}

		rows, err := db.QueryContext(ctx, "SELECT id, body, pinned FROM "+notes+" ORDER BY id")
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for rows.Next() {
			var id, pinned int
			var body string
			if err := rows.Scan(&id, &body, &pinned); err != nil {
				t.Fatal(err)
			}
			got = append(got, body)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
		if want := []string{"first; note?", "second :note"}; !reflect.DeepEqual(got, want) {
			t.Fatalf("notes = %q; want %q", got, want)
		}

		var applied []int64
		rows, err = db.QueryContext(ctx, "SELECT version_id FROM "+versions+" WHERE is_applied = ? ORDER BY version_id", true)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var v int64
			if err := rows.Scan(&v); err != nil {
				t.Fatal(err)
			}
			applied = append(applied, v)
		}
		rows.Close()
		if want := []int64{0, 1, 2}; !reflect.DeepEqual(applied, want) {
			t.Fatalf("%s versions = %v; want %v", versions, applied, want)
		}

		// Down undoes the last migration.
		if _, err := p.Down(ctx); err != nil {
			t.Fatal(err)
		}
		var n int
		if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+notes).Scan(&n); err != nil || n != 0 {
			t.Fatalf("rows after Down = %d, %v; want 0", n, err)
		}
		if v, err := p.GetDBVersion(ctx); err != nil || v != 1 {
			t.Fatalf("GetDBVersion after Down = %d, %v; want 1", v, err)
		}
	})
}
