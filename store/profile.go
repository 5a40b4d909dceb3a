package store

import "fmt"

// DefaultProfile is the profile used when none is named. Its sessions keep
// the file name and keyring account they had before profiles existed, so
// that a session stored by an older clerk-mcp loads without a new login.
const DefaultProfile = "default"

// isProfileName reports whether name is what a profile may be called: it
// becomes part of a file name and a keyring account. Lower case only,
// because macOS and Windows file systems would fold "Work" and "work" into
// one file while the keyring keeps them apart. (A loop, not a regexp: a
// package-level regexp is compiled at every process start.)
func isProfileName(name string) bool {
	if len(name) == 0 || len(name) > 32 {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
		case (c == '-' || c == '_') && i > 0:
		default:
			return false
		}
	}
	return true
}

// CheckProfile reports whether name can name a profile: 1 to 32 lower-case
// letters, digits, '-' and '_', starting with a letter or digit.
func CheckProfile(name string) error {
	if !isProfileName(name) {
		return fmt.Errorf("invalid profile name %q: use 1 to 32 lower-case letters, digits, '-' or '_', starting with a letter or digit", name)
	}
	return nil
}

// profileOrDefault maps the empty profile, which sessions stored before
// profiles existed carry, to DefaultProfile.
func profileOrDefault(profile string) string {
	if profile == "" {
		return DefaultProfile
	}
	return profile
}

// sessionKey names the files of one issuer, client and profile. The
// default profile keeps the key of Key alone; another profile appends its
// name, which cannot collide with a key since Key is fixed-length hex.
func sessionKey(issuer, clientID, profile string) string {
	key := Key(issuer, clientID)
	if profile = profileOrDefault(profile); profile != DefaultProfile {
		key += "-" + profile
	}
	return key
}

// keyringAccount is the keyring entry of one issuer, client and profile;
// the default profile keeps the account it had before profiles existed.
func keyringAccount(issuer, clientID, profile string) string {
	account := issuer + " " + clientID
	if profile = profileOrDefault(profile); profile != DefaultProfile {
		account += " " + profile
	}
	return account
}
