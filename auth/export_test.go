package auth

import "time"

// SetClientClock replaces c's clock, for clock-skew tests.
func SetClientClock(c *Client, now func() time.Time) { c.now = now }

// SetPollUnit makes one second of the device flow's polling interval last d.
func SetPollUnit(o *LoginOptions, d time.Duration) { o.pollUnit = d }
