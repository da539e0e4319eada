package integration

import (
	"database/sql"
	"reflect"
	"testing"

	"gorm.io/driver/mysql"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/go-databases/databases/internal/dbtest"
)

type gormBook struct {
	ID     uint `gorm:"primaryKey"`
	Title  string
	Pages  int
	Author string
}

// gormDialector opens GORM on an existing *sql.DB from databases.Open.
func gormDialector(dialect string, db *sql.DB) gorm.Dialector {
	switch dialect {
	case "postgres":
		return postgres.New(postgres.Config{Conn: db})
	case "mysql":
		return mysql.New(mysql.Config{Conn: db, SkipInitializeWithVersion: false})
	default:
		return sqliteDialector{Conn: db}
	}
}

func TestGORM(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		sdb := open(t, b)
		table := dbtest.Name("gorm_books")
		dropAfter(t, sdb, table)
		gdb, err := gorm.Open(gormDialector(b.Dialect, sdb), &gorm.Config{Logger: logger.Default.LogMode(logger.Silent)})
		if err != nil {
			t.Fatal(err)
		}
		books := func() *gorm.DB { return gdb.Table(table) }
		if err := books().AutoMigrate(&gormBook{}); err != nil {
			t.Fatal(err)
		}
		if !gdb.Migrator().HasTable(table) {
			t.Fatalf("HasTable(%s) = false after AutoMigrate", table)
		}

		in := []gormBook{
			{Title: "The Go Programming Language", Pages: 380, Author: "Donovan"},
			{Title: "The C Programming Language", Pages: 272, Author: "Kernighan"},
			{Title: "The AWK Programming Language", Pages: 210, Author: "Kernighan"},
		}
		if err := books().Create(&in).Error; err != nil {
			t.Fatal(err)
		}
		for i, bk := range in {
			if bk.ID == 0 {
				t.Fatalf("book %d got no ID from Create", i)
			}
		}

		var first gormBook
		if err := books().First(&first, in[1].ID).Error; err != nil {
			t.Fatal(err)
		}
		if first != in[1] {
			t.Fatalf("First = %+v; want %+v", first, in[1])
		}

		var titles []string
		if err := books().Where("author = ? AND pages > ?", "Kernighan", 200).Order("pages").Pluck("title", &titles).Error; err != nil {
			t.Fatal(err)
		}
		if want := []string{"The AWK Programming Language", "The C Programming Language"}; !reflect.DeepEqual(titles, want) {
			t.Fatalf("Pluck = %q; want %q", titles, want)
		}

		// Named arguments in GORM's own syntax.
		var count int64
		if err := books().Where("author = @a OR pages > @p", sql.Named("a", "Donovan"), sql.Named("p", 250)).Count(&count).Error; err != nil {
			t.Fatal(err)
		}
		if count != 2 {
			t.Fatalf("Count = %d; want 2", count)
		}

		if err := books().Where("id = ?", in[0].ID).Update("pages", 400).Error; err != nil {
			t.Fatal(err)
		}
		// A transaction that fails is rolled back.
		_ = gdb.Transaction(func(tx *gorm.DB) error {
			tx.Table(table).Where("id = ?", in[0].ID).Update("pages", 1)
			return gorm.ErrInvalidData
		})
		var pages int
		if err := books().Select("pages").Where("id = ?", in[0].ID).Scan(&pages).Error; err != nil {
			t.Fatal(err)
		}
		if pages != 400 {
			t.Fatalf("pages = %d; want 400 (updated, then a rolled back change)", pages)
		}

		if err := books().Where("author = ?", "Kernighan").Delete(&gormBook{}).Error; err != nil {
			t.Fatal(err)
		}
		if err := books().Count(&count).Error; err != nil || count != 1 {
			t.Fatalf("Count after Delete = %d, %v; want 1", count, err)
		}
	})
}
