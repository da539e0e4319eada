package integration

import (
	"context"
	"database/sql"
	"reflect"
	"testing"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/mysqldialect"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/dialect/sqlitedialect"
	"github.com/uptrace/bun/schema"

	"github.com/go-databases/databases/internal/dbtest"
)

type bunTask struct {
	bun.BaseModel
	ID    int64  `bun:"id,pk"`
	Title string `bun:"title,notnull"`
	Done  bool   `bun:"done,notnull"`
	Rank  int    `bun:"rank_,notnull"`
}

// bunDialect is bun's dialect for the backend behind the *sql.DB.
func bunDialect(dialect string) schema.Dialect {
	switch dialect {
	case "postgres":
		return pgdialect.New()
	case "mysql":
		return mysqldialect.New()
	default:
		return sqlitedialect.New()
	}
}

func TestBun(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		ctx := context.Background()
		sdb := open(t, b)
		table := dbtest.Name("bun_tasks")
		dropAfter(t, sdb, table)
		db := bun.NewDB(sdb, bunDialect(b.Dialect))

		if _, err := db.NewCreateTable().Model((*bunTask)(nil)).ModelTableExpr(table).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		tasks := []bunTask{
			{ID: 1, Title: "write the driver", Done: true, Rank: 2},
			{ID: 2, Title: "write the tests", Done: false, Rank: 1},
			{ID: 3, Title: "write it's docs?", Done: false, Rank: 3},
		}
		if _, err := db.NewInsert().Model(&tasks).ModelTableExpr(table).Exec(ctx); err != nil {
			t.Fatal(err)
		}

		var open []bunTask
		err := db.NewSelect().Model(&open).ModelTableExpr(table+" AS bun_task").
			Where("done = ?", false).Order("rank_").Scan(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if want := []bunTask{tasks[1], tasks[2]}; !reflect.DeepEqual(open, want) {
			t.Fatalf("select = %+v; want %+v", open, want)
		}

		// bun inlines its arguments; arguments passed through to
		// database/sql go through the driver's placeholders.
		if _, err := db.NewUpdate().Model((*bunTask)(nil)).ModelTableExpr(table+" AS bun_task").
			Set("done = ?", true).Where("id = ?", 2).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		var done int
		if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+table+" WHERE done = ?", true).Scan(&done); err != nil {
			t.Fatal(err)
		}
		if done != 2 {
			t.Fatalf("done = %d; want 2", done)
		}

		// bun.Tx over the driver's transactions: an error rolls back.
		err = db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			if _, err := tx.NewDelete().Model((*bunTask)(nil)).ModelTableExpr(table).Where("id = ?", 1).Exec(ctx); err != nil {
				return err
			}
			return sql.ErrTxDone
		})
		if err != sql.ErrTxDone {
			t.Fatalf("RunInTx = %v", err)
		}
		n, err := db.NewSelect().Model((*bunTask)(nil)).ModelTableExpr(table + " AS bun_task").Count(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n != 3 {
			t.Fatalf("count = %d; want 3 after the rolled back delete", n)
		}
		var title string
		if err := db.NewSelect().ModelTableExpr(table).Column("title").Where("id = ?", 3).Scan(ctx, &title); err != nil {
			t.Fatal(err)
		}
		if title != "write it's docs?" {
			t.Fatalf("title = %q", title)
		}
	})
}
