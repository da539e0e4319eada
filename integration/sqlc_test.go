package integration

import (
	"context"
	"database/sql"
	"errors"
	"reflect"
	"testing"

	"github.com/go-databases/databases"
	"github.com/go-databases/databases/internal/dbtest"
)

// What sqlc generates: a DBTX interface that *sql.DB, *sql.Conn and *sql.Tx
// satisfy, a Queries struct over it, and one method per query with the
// query text as a constant in the engine's native style ($1 on PostgreSQL,
// ? on MySQL and SQLite).

type DBTX interface {
	ExecContext(context.Context, string, ...any) (sql.Result, error)
	PrepareContext(context.Context, string) (*sql.Stmt, error)
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
	QueryRowContext(context.Context, string, ...any) *sql.Row
}

type sqlcQueries struct {
	db DBTX
	q  sqlcText
}

func (q *sqlcQueries) WithTx(tx *sql.Tx) *sqlcQueries {
	return &sqlcQueries{db: tx, q: q.q}
}

type sqlcText struct {
	getAuthor, listAuthors, createAuthor, renameAuthor string
}

// queriesFor returns the generated text for a dialect: sqlc generates
// native placeholders, which the driver sends unchanged.
func queriesFor(dialect, table string) sqlcText {
	if dialect == "postgres" {
		return sqlcText{
			getAuthor:    "SELECT id, name, bio FROM " + table + " WHERE id = $1 LIMIT 1",
			listAuthors:  "SELECT id, name, bio FROM " + table + " WHERE name <> $1 ORDER BY name",
			createAuthor: "INSERT INTO " + table + " (id, name, bio) VALUES ($1, $2, $3)",
			renameAuthor: "UPDATE " + table + " SET name = $1 WHERE id = $2",
		}
	}
	return sqlcText{
		getAuthor:    "SELECT id, name, bio FROM " + table + " WHERE id = ? LIMIT 1",
		listAuthors:  "SELECT id, name, bio FROM " + table + " WHERE name <> ? ORDER BY name",
		createAuthor: "INSERT INTO " + table + " (id, name, bio) VALUES (?, ?, ?)",
		renameAuthor: "UPDATE " + table + " SET name = ? WHERE id = ?",
	}
}

type author struct {
	ID   int64
	Name string
	Bio  sql.NullString
}

func (q *sqlcQueries) GetAuthor(ctx context.Context, id int64) (author, error) {
	row := q.db.QueryRowContext(ctx, q.q.getAuthor, id)
	var i author
	err := row.Scan(&i.ID, &i.Name, &i.Bio)
	return i, err
}

func (q *sqlcQueries) ListAuthors(ctx context.Context, except string) ([]author, error) {
	rows, err := q.db.QueryContext(ctx, q.q.listAuthors, except)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var items []author
	for rows.Next() {
		var i author
		if err := rows.Scan(&i.ID, &i.Name, &i.Bio); err != nil {
			return nil, err
		}
		items = append(items, i)
	}
	if err := rows.Close(); err != nil {
		return nil, err
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return items, nil
}

func (q *sqlcQueries) CreateAuthor(ctx context.Context, id int64, name string, bio sql.NullString) error {
	_, err := q.db.ExecContext(ctx, q.q.createAuthor, id, name, bio)
	return err
}

func (q *sqlcQueries) RenameAuthor(ctx context.Context, id int64, name string) error {
	_, err := q.db.ExecContext(ctx, q.q.renameAuthor, name, id)
	return err
}

func TestSQLCStyleQueries(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		ctx := context.Background()
		db := open(t, b)
		table := dbtest.Name("sqlc_authors")
		dropAfter(t, db, table)
		mustExec(t, db, "CREATE TABLE "+table+" (id BIGINT PRIMARY KEY, name VARCHAR(50) NOT NULL, bio TEXT)")
		q := &sqlcQueries{db: db, q: queriesFor(b.Dialect, table)}

		if err := q.CreateAuthor(ctx, 1, "Brian Kernighan", sql.NullString{String: "Co-author of The C Programming Language", Valid: true}); err != nil {
			t.Fatal(err)
		}
		if err := q.CreateAuthor(ctx, 2, "Rob Pike", sql.NullString{}); err != nil {
			t.Fatal(err)
		}
		got, err := q.GetAuthor(ctx, 1)
		if err != nil {
			t.Fatal(err)
		}
		if got.Name != "Brian Kernighan" || got.Bio.String != "Co-author of The C Programming Language" {
			t.Fatalf("GetAuthor(1) = %+v", got)
		}

		// The generated WithTx inside databases.Transact: an error rolls
		// the rename back, success commits it.
		errStop := errors.New("stop")
		err = databases.Transact(ctx, db, nil, func(ctx context.Context, tx *sql.Tx) error {
			if err := q.WithTx(tx).RenameAuthor(ctx, 2, "Robert Pike"); err != nil {
				return err
			}
			return errStop
		})
		if !errors.Is(err, errStop) {
			t.Fatalf("Transact = %v; want %v", err, errStop)
		}
		if got, err := q.GetAuthor(ctx, 2); err != nil || got.Name != "Rob Pike" {
			t.Fatalf("after rollback: %+v, %v; want Rob Pike", got, err)
		}
		err = databases.Transact(ctx, db, nil, func(ctx context.Context, tx *sql.Tx) error {
			return q.WithTx(tx).RenameAuthor(ctx, 2, "Robert Pike")
		})
		if err != nil {
			t.Fatal(err)
		}

		list, err := q.ListAuthors(ctx, "nobody")
		if err != nil {
			t.Fatal(err)
		}
		want := []author{
			{1, "Brian Kernighan", sql.NullString{String: "Co-author of The C Programming Language", Valid: true}},
			{2, "Robert Pike", sql.NullString{}},
		}
		if !reflect.DeepEqual(list, want) {
			t.Fatalf("ListAuthors = %+v; want %+v", list, want)
		}
		if _, err := q.GetAuthor(ctx, 3); !errors.Is(err, sql.ErrNoRows) {
			t.Fatalf("GetAuthor(3) = %v; want sql.ErrNoRows", err)
		}
	})
}
