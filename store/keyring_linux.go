package store

import (
	"fmt"
	"os"
)

// keyringPlausible reports whether a Secret Service could be reached without
// side effects. Without a session bus address or a user bus socket, godbus
// would autolaunch a stray dbus-daemon, so the keyring is skipped instead.
func keyringPlausible() (bool, string) {
	if os.Getenv("DBUS_SESSION_BUS_ADDRESS") != "" {
		return true, ""
	}
	sock := fmt.Sprintf("/run/user/%d/bus", os.Getuid())
	if _, err := os.Stat(sock); err == nil {
		return true, ""
	}
	return false, "no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS unset and no " + sock + ")"
}
