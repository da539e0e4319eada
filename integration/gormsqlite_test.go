package integration

import (
	"database/sql"

	"gorm.io/gorm"
	"gorm.io/gorm/callbacks"
	"gorm.io/gorm/clause"
	"gorm.io/gorm/logger"
	"gorm.io/gorm/migrator"
	"gorm.io/gorm/schema"
)

// sqliteDialector is the part of a GORM SQLite dialector these tests need,
// over an existing *sql.DB.
//
// The published pure-Go dialector (github.com/glebarez/sqlite) imports
// github.com/glebarez/go-sqlite, a fork of modernc.org/sqlite that registers
// the driver name "sqlite" too, so a binary with both panics at init
// ("sql: Register called twice for driver sqlite"); gorm.io/driver/sqlite
// needs cgo (mattn/go-sqlite3). Programs that use GORM on SQLite through
// this driver need a dialector that does not import a SQLite driver.
type sqliteDialector struct {
	Conn *sql.DB
}

func (sqliteDialector) Name() string { return "sqlite" }

func (d sqliteDialector) Initialize(db *gorm.DB) error {
	db.ConnPool = d.Conn
	callbacks.RegisterDefaultCallbacks(db, &callbacks.Config{
		CreateClauses:        []string{"INSERT", "VALUES", "ON CONFLICT", "RETURNING"},
		UpdateClauses:        []string{"UPDATE", "SET", "FROM", "WHERE", "RETURNING"},
		DeleteClauses:        []string{"DELETE", "FROM", "WHERE", "RETURNING"},
		LastInsertIDReversed: true,
	})
	return nil
}

func (d sqliteDialector) Migrator(db *gorm.DB) gorm.Migrator {
	return sqliteMigrator{migrator.Migrator{Config: migrator.Config{DB: db, Dialector: d, CreateIndexAfterCreateTable: true}}}
}

func (sqliteDialector) DataTypeOf(f *schema.Field) string {
	switch f.DataType {
	case schema.Bool:
		return "numeric"
	case schema.Int, schema.Uint:
		return "integer"
	case schema.Float:
		return "real"
	case schema.String:
		return "text"
	case schema.Time:
		return "datetime"
	case schema.Bytes:
		return "blob"
	}
	return string(f.DataType)
}

func (sqliteDialector) DefaultValueOf(f *schema.Field) clause.Expression {
	if f.AutoIncrement {
		return clause.Expr{SQL: "NULL"}
	}
	return clause.Expr{SQL: "DEFAULT"}
}

func (sqliteDialector) BindVarTo(w clause.Writer, _ *gorm.Statement, _ any) { w.WriteByte('?') }

func (sqliteDialector) QuoteTo(w clause.Writer, s string) {
	w.WriteByte('`')
	w.WriteString(s)
	w.WriteByte('`')
}

func (sqliteDialector) Explain(sql string, vars ...any) string {
	return logger.ExplainSQL(sql, nil, `"`, vars...)
}

// sqliteMigrator answers HasTable from sqlite_master; GORM's generic
// migrator asks information_schema, which SQLite does not have.
type sqliteMigrator struct{ migrator.Migrator }

func (m sqliteMigrator) HasTable(value any) bool {
	var n int
	m.RunWithValue(value, func(stmt *gorm.Statement) error {
		return m.DB.Raw("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?", stmt.Table).Row().Scan(&n)
	})
	return n > 0
}

func (m sqliteMigrator) AutoMigrate(values ...any) error {
	for _, v := range values {
		if !m.HasTable(v) {
			if err := m.CreateTable(v); err != nil {
				return err
			}
		}
	}
	return nil
}
