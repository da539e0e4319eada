package databases_test

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/go-databases/databases"
)

// tokenCache is a databases.CredentialsFunc for tokens that expire, such as
// AWS RDS IAM tokens (15 minutes): it keeps each server's token and fetches
// a new one only when the kept one is within margin of expiring. New
// connections wait for one fetch at a time instead of each asking.
type tokenCache struct {
	user   string
	margin time.Duration
	fetch  func(ctx context.Context, server string) (token string, expires time.Time, err error)

	mu     sync.Mutex
	tokens map[string]cachedToken // by server
}

type cachedToken struct {
	token   string
	expires time.Time
}

// Credentials returns the user and a token for a new connection to server.
func (c *tokenCache) Credentials(ctx context.Context, server string) (string, string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t, ok := c.tokens[server]; ok && time.Until(t.expires) > c.margin {
		return c.user, t.token, nil
	}
	token, expires, err := c.fetch(ctx, server)
	if err != nil {
		return "", "", fmt.Errorf("token for %s: %w", server, err)
	}
	if c.tokens == nil {
		c.tokens = map[string]cachedToken{}
	}
	c.tokens[server] = cachedToken{token: token, expires: expires}
	return c.user, token, nil
}

// ExampleWithCredentials gives each new connection a token that expires,
// fetched once per server until shortly before it does. The fetch here
// stands for a token service (docs/credentials.md has AWS RDS's).
func ExampleWithCredentials() {
	fetches := 0
	tokens := &tokenCache{user: "app", margin: time.Minute,
		fetch: func(ctx context.Context, server string) (string, time.Time, error) {
			fetches++
			return fmt.Sprintf("token-%d", fetches), time.Now().Add(15 * time.Minute), nil
		}}
	db, err := databases.Open("postgres://app@db.example.com:5432/shop?sslmode=require",
		databases.WithCredentials(tokens.Credentials))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer db.Close()

	// What three new connections to the server would ask.
	for range 3 {
		_, token, _ := tokens.Credentials(context.Background(), "db.example.com:5432")
		fmt.Println(token)
	}
	// Output:
	// token-1
	// token-1
	// token-1
}
