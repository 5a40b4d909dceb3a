package auth

import "time"

// SetClientClock replaces c's clock, for clock-skew tests.
func SetClientClock(c *Client, now func() time.Time) { c.now = now }
