package catalog

import (
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode"
)

// parsedQuery is a query split into what it asks for.
type parsedQuery struct {
	groups   []group         // one per content word or phrase
	total    float64         // sum of the weights of the groups that count for coverage
	verb     string          // the intent asked for, if any
	verbStem string          // stem of verb, to find it in a summary
	class    string          // the operation kind of verb
	joined   string          // the query's own content stems joined by "_", to compare with a resource
	head     string          // the last content stem, the head noun in English ("organization members")
	mentions map[string]bool // every stem the query may mean, to compare with a resource
	one      map[string]bool // stems of things named in the singular, to compare with path parameters
	bulk     bool            // the query asks for a bulk operation
	platform bool            // the query speaks of the Platform API: apps of a workspace, client apps
	across   bool            // the query wants things across every parent: "invitations across all orgs"
}

// group is one thing the query asks for, with the catalog words that may
// say it: "team" is said "organization" in Clerk's words.
type group struct {
	alts   []alt
	weight float64
	weak   bool // found or not, it does not count for coverage (a verb's own word)
	filter bool // it follows "by" or "with": a list's query parameters may name it
	one    bool // said in the singular: "an organization" is one, named by a path parameter
}

// alt is one way the catalog may say a group: one stem or several that
// must all be found ("profile image").
type alt struct {
	stems  []string
	weight float64
}

// sense is what a word or phrase of a query means in Clerk's vocabulary.
type sense struct {
	verb   string   // the intent it asks for: "kick" asks to delete
	terms  []string // catalog words it stands for, "word" or "word/weight"
	drop   bool     // the word itself is not a content word ("kick", "how many")
	person bool     // it names a person: with a group word, it asks about membership
	app    bool     // it names an application: with a workspace or a client, the Platform API
	host   bool     // a workspace or a client: with an application, who manages it on the Platform API
	plat   bool     // it says Platform API by itself ("agency")
	weak   bool     // a vague word ("someone"): it helps where found but a result need not have it
	group  bool     // it names an organization
	strong bool     // an idiom with one meaning ("sign in as"): weighs more than a plain word
}

// The tables below are read through vocab, which builds them on first use:
// as package-level maps they would be allocated at every process start,
// also by the many that never search the catalog.

// undoWords undo an action named after them: "lift the ban" is an unban,
// "restore access" of a locked account an unlock, when the catalog has
// the un- action.
const undoWords = "lift undo reverse restore reinstate"

// verbWords are intent verbs: what a user says to ask for an operation
// kind.
func verbWords() map[string]string {
	return map[string]string{
		"list": "list", "all": "list", "every": "list", "browse": "list", "enumerate": "list", "search": "list",
		"get": "get", "fetch": "get", "retrieve": "get", "show": "get", "see": "get", "view": "get", "read": "get",
		"find": "get", "lookup": "get", "look up": "get", "inspect": "get", "display": "get", "what": "get",
		"create": "create", "add": "create", "new": "create", "register": "create", "generate": "create", "issue": "create",
		"provision": "create", "onboard": "create", "set up": "create", "setup": "create", "make": "create",
		"delete": "delete", "remove": "delete", "kick": "delete", "kick out": "delete", "boot": "delete", "expel": "delete",
		"drop": "delete", "erase": "delete", "destroy": "delete", "purge": "delete", "wipe": "delete", "get rid": "delete",
		"take away": "delete", "clear": "delete", "disconnect": "delete", "unlink": "delete", "detach": "delete",
		"turn off": "delete", "disable": "delete", "deactivate": "delete",
		"update": "update", "edit": "update", "modify": "update", "change": "update", "rename": "update",
		"set": "update", "patch": "update", "promote": "update", "demote": "update", "adjust": "update",
		"turn on": "update", "enable": "update", "toggle": "update", "switch": "update", "move": "update",
		"count": "count", "how many": "count", "number of": "count", "total": "count",
		// Everyday ways to say the same.
		"pull up": "get", "open": "get", "check": "get", "look at": "get", "dump": "get", "download": "get",
		"describe": "get", "which": "get", "reveal": "get", "export": "list",
		"mint": "create", "import": "create", "spin up": "create", "enroll": "create", "start": "create", "put": "create",
		"strip": "delete", "forget": "delete", "nuke": "delete", "trash": "delete", "discard": "delete",
		"take off": "delete", "take out": "delete", "unenroll": "delete", "unregister": "delete",
		"save": "update", "customize": "update", "customise": "update", "tweak": "update", "flip": "update", "mark": "update",
		// Action paths' own words, as users say them.
		"invalidate": "revoke", "take back": "revoke", "retract": "revoke", "expire": "revoke", "void": "revoke",
		"decline": "reject", "refuse": "reject", "swap": "replace", "overwrite": "replace",
		"top up": "adjust", "renew": "refresh", "exchange": "refresh", "admit": "invite", "let in": "invite",
		"freeze": "lock", "unfreeze": "unlock", "adopt": "claim", "take over": "claim", "combine": "merge",
		"regenerate": "rotate", "roll": "rotate", "cycle": "rotate", "recheck": "trigger", "retry": "trigger",
		"prolong": "extend",
	}
}

// isCoreVerb reports whether v is an intent that operation kinds have;
// other intents are action words (ban, revoke, rotate) found in action
// paths.
func isCoreVerb(v string) bool {
	switch v {
	case "list", "get", "count", "create", "delete", "update":
		return true
	}
	return false
}

// lexicon is Clerk's vocabulary as users speak it, from the concepts of
// Clerk's documentation: keys are words or phrases of a query, values what
// the catalog calls them. Verbs come from verbWords; this table adds
// meaning.
func lexicon() map[string]sense {
	return map[string]sense{
		// Organizations and their members.
		"org": {terms: []string{"organization"}, group: true}, "organization": {group: true},
		"team": {terms: []string{"organization/0.9"}, group: true}, "workspace": {terms: []string{"organization/0.9"}, group: true, host: true},
		"company": {terms: []string{"organization/0.7"}, group: true}, "tenant": {terms: []string{"organization/0.8"}, group: true},
		"account team": {terms: []string{"organization/0.8"}, group: true},
		"member":       {terms: []string{"membership"}, person: true},
		"teammate":     {terms: []string{"user/0.4"}, drop: true, person: true, weak: true}, "colleague": {terms: []string{"user/0.4"}, drop: true, person: true, weak: true},
		"coworker": {terms: []string{"user/0.4"}, drop: true, person: true, weak: true}, "employee": {terms: []string{"user/0.4"}, drop: true, person: true, weak: true},
		"seat":  {terms: []string{"membership/0.8", "subscription/0.6"}},
		"admin": {terms: []string{"role/0.8"}}, "right": {terms: []string{"role/0.8", "permission/0.6"}},
		"everyone":  {terms: []string{"user/0.4"}, verb: "list", drop: true, person: true, weak: true},
		"everybody": {terms: []string{"user/0.4"}, verb: "list", drop: true, person: true, weak: true},
		"who":       {verb: "list", drop: true},
		"detail":    {verb: "get", drop: true}, "info": {verb: "get", drop: true}, "information": {verb: "get", drop: true}, "role": {terms: []string{"role"}}, "access level": {terms: []string{"role", "permission/0.8"}},
		"join": {terms: []string{"membership/0.5", "invitation/0.5"}}, "belong": {terms: []string{"membership/0.8"}},
		"invite":  {terms: []string{"invitation", "invite/0.5"}, verb: "create"},
		"approve": {terms: []string{"invite/0.8"}, verb: "invite"}, "accept": {terms: []string{"invite/0.8"}, verb: "invite"},
		// People.
		"user": {person: true}, "someone": {terms: []string{"user/0.4"}, drop: true, person: true, weak: true},
		"somebody": {terms: []string{"user/0.4"}, drop: true, person: true, weak: true}, "person": {terms: []string{"user/0.5"}, drop: true, person: true, weak: true},
		"people": {terms: []string{"user/0.5"}, drop: true, person: true, weak: true}, "customer": {terms: []string{"user/0.6"}, drop: true, person: true, weak: true},
		"end user": {terms: []string{"user"}, person: true}, "spammer": {terms: []string{"user/0.5", "ban/0.5"}, drop: true, person: true, weak: true},
		"visitor": {terms: []string{"user/0.4"}, drop: true, person: true, weak: true}, "account": {terms: []string{"user", "account/0.3"}},
		"clerk account": {drop: true}, "clerk dashboard": {drop: true},
		"profile": {terms: []string{"user", "profile/0.3"}},
		// Impersonation: actor tokens.
		"impersonate":   {terms: []string{"actor", "impersonate"}, verb: "create", strong: true},
		"impersonation": {terms: []string{"actor", "impersonate"}, strong: true},
		"sign in as":    {terms: []string{"actor", "impersonate"}, verb: "create", drop: true, strong: true},
		"log in as":     {terms: []string{"actor", "impersonate"}, verb: "create", drop: true, strong: true},
		"login as":      {terms: []string{"actor", "impersonate"}, verb: "create", drop: true, strong: true},
		"act as":        {terms: []string{"actor", "impersonate"}, verb: "create", drop: true, strong: true},
		"on behalf":     {terms: []string{"actor/0.8", "impersonate/0.8"}, strong: true},
		"masquerade":    {terms: []string{"actor", "impersonate"}, strong: true},
		// Who may sign up or sign in.
		"allowlist": {terms: []string{"allow/0.8"}, strong: true}, "whitelist": {terms: []string{"allowlist", "allow/0.8"}, strong: true},
		"allow list": {terms: []string{"allowlist", "allow/0.8"}, strong: true}, "only allow": {terms: []string{"allowlist", "allow/0.8"}, verb: "create", strong: true},
		"restrict": {terms: []string{"restriction", "allowlist/0.8"}}, "restriction": {terms: []string{"allowlist/0.6"}},
		"blocklist": {terms: []string{"block"}, strong: true}, "blacklist": {terms: []string{"blocklist", "block"}, strong: true},
		"denylist": {terms: []string{"blocklist", "block"}, strong: true}, "block list": {terms: []string{"blocklist"}, strong: true},
		"block": {terms: []string{"ban", "blocklist/0.7"}, verb: "ban"}, "suspend": {terms: []string{"ban", "lock/0.7"}, verb: "ban"},
		"ban": {verb: "ban"}, "stop": {terms: []string{"ban/0.8", "blocklist/0.8", "lock/0.5"}, drop: true},
		"prevent": {terms: []string{"ban/0.8", "blocklist/0.8", "lock/0.5"}, drop: true},
		"forbid":  {terms: []string{"ban/0.8", "blocklist/0.8"}, drop: true}, "disallow": {terms: []string{"ban/0.8", "blocklist/0.8"}, drop: true},
		"deny":        {terms: []string{"ban/0.8", "blocklist/0.8"}, drop: true},
		"temporarily": {terms: []string{"lock/0.8"}, drop: true}, "temporary": {terms: []string{"lock/0.8"}, drop: true}, "unban": {verb: "unban"}, "unblock": {terms: []string{"unban", "unlock/0.7"}, verb: "unban"},
		"spam": {terms: []string{"ban/0.7", "blocklist/0.7"}}, "abuse": {terms: []string{"ban/0.7", "blocklist/0.5"}},
		"bot": {terms: []string{"protect/0.6", "ban/0.4"}}, "waitlist": {terms: []string{"waitlist"}}, "wait list": {terms: []string{"waitlist"}},
		"early access": {terms: []string{"waitlist"}, strong: true},
		"locked out":   {terms: []string{"lock", "unlock"}, strong: true}, "brute force": {terms: []string{"lock"}},
		// Second factors.
		"mfa": {terms: []string{"totp/0.8", "backup/0.5"}}, "2fa": {terms: []string{"mfa", "totp/0.8", "backup/0.5"}},
		"two factor": {terms: []string{"mfa", "totp/0.8", "backup/0.5"}, strong: true}, "multi factor": {terms: []string{"mfa", "totp/0.8"}, strong: true},
		"second factor": {terms: []string{"mfa", "totp/0.8"}, strong: true}, "authenticator": {terms: []string{"totp", "mfa/0.7"}},
		"otp": {terms: []string{"totp", "code/0.5"}}, "totp": {terms: []string{"mfa/0.6"}},
		"backup code": {terms: []string{"backup", "code/0.5"}, strong: true}, "recovery code": {terms: []string{"backup", "code/0.5"}, strong: true},
		"passkey": {terms: []string{"passkey"}}, "webauthn": {terms: []string{"passkey"}}, "security key": {terms: []string{"passkey"}},
		"trusted device": {terms: []string{"trust", "device"}, strong: true}, "remembered device": {terms: []string{"trust", "device"}},
		// Usage and billing.
		"mau": {terms: []string{"usage", "mau"}, strong: true}, "monthly active": {terms: []string{"usage", "mau"}, drop: true, strong: true},
		"active user": {terms: []string{"usage/0.8", "mau/0.8"}, strong: true}, "usage": {terms: []string{"mau/0.5"}},
		"metric": {terms: []string{"usage"}}, "stats": {terms: []string{"usage", "count/0.5"}}, "statistic": {terms: []string{"usage", "count/0.5"}},
		"quota": {terms: []string{"usage"}}, "consumption": {terms: []string{"usage"}},
		"plan": {terms: []string{"billing/0.6", "subscription/0.6"}}, "pricing": {terms: []string{"price", "billing/0.6"}},
		"invoice": {terms: []string{"statement", "billing/0.6"}}, "payment": {terms: []string{"payment", "billing/0.6"}},
		"subscription": {terms: []string{"billing/0.5"}}, "trial": {terms: []string{"trial"}}, "coupon": {terms: []string{"discount"}},
		"credit": {terms: []string{"credit", "balance/0.7"}},
		// Sign-in, sign-up, sessions.
		"log out": {terms: []string{"session"}, verb: "revoke", drop: true, strong: true}, "logout": {terms: []string{"session"}, verb: "revoke", drop: true, strong: true},
		"sign out": {terms: []string{"session"}, verb: "revoke", drop: true, strong: true}, "signout": {terms: []string{"session"}, verb: "revoke", drop: true, strong: true},
		"end": {terms: []string{"session/0.5"}, verb: "revoke", drop: true}, "terminate": {terms: []string{"session/0.5"}, verb: "revoke", drop: true},
		"kill": {terms: []string{"session/0.5"}, verb: "revoke", drop: true}, "log": {terms: []string{"session/0.5"}, verb: "revoke", drop: true},
		"force logout": {terms: []string{"session"}, verb: "revoke", drop: true, strong: true},
		"sign in":      {terms: []string{"sign"}, drop: true}, "signin": {terms: []string{"sign"}}, "log in": {terms: []string{"sign"}, drop: true},
		"login": {terms: []string{"sign"}}, "sign up": {terms: []string{"sign"}, drop: true}, "signup": {terms: []string{"sign"}},
		"registration": {terms: []string{"sign/0.8"}},
		"magic link":   {terms: []string{"sign", "token/0.5"}, strong: true}, "login link": {terms: []string{"sign", "token/0.5"}, strong: true},
		"sign in link": {terms: []string{"sign", "token/0.5"}, strong: true}, "one time link": {terms: []string{"sign", "token/0.5"}},
		"session token": {terms: []string{"session", "token"}}, "jwt": {terms: []string{"jwt", "template/0.5"}},
		"claim": {terms: []string{"jwt/0.7", "template/0.5", "claim"}}, "custom claim": {terms: []string{"jwt", "template"}, strong: true},
		"jwks": {terms: []string{"jwks"}}, "public key": {terms: []string{"jwks"}, strong: true},
		"device": {terms: []string{"device", "client/0.5"}},
		// Profile data.
		"metadata": {}, "custom data": {terms: []string{"metadata"}}, "custom attribute": {terms: []string{"metadata"}},
		"custom field": {terms: []string{"metadata"}}, "extra data": {terms: []string{"metadata"}}, "attribute": {terms: []string{"metadata/0.8"}},
		"avatar": {terms: []string{"profile image", "logo", "image/0.6"}}, "photo": {terms: []string{"profile image", "logo", "image/0.6"}},
		"picture": {terms: []string{"profile image", "logo", "image/0.6"}}, "pfp": {terms: []string{"profile image"}},
		"image": {terms: []string{"profile image", "logo"}}, "brand": {terms: []string{"logo/0.8", "favicon/0.5"}},
		"profile picture": {terms: []string{"profile image"}, strong: true}, "profile photo": {terms: []string{"profile image"}, strong: true},
		"icon": {terms: []string{"favicon", "logo/0.7"}}, "mail": {terms: []string{"email"}}, "e mail": {terms: []string{"email"}},
		"email": {terms: []string{"email"}}, "sms": {terms: []string{"phone", "sms"}}, "mobile": {terms: []string{"phone"}}, "cell": {terms: []string{"phone"}},
		"phone": {}, "pwd": {terms: []string{"password"}}, "passphrase": {terms: []string{"password"}},
		"pwned":  {terms: []string{"compromise", "hibp/0.8"}},
		"social": {terms: []string{"external", "account/0.5", "oauth/0.5"}}, "google": {terms: []string{"external/0.8", "oauth/0.6"}},
		"github": {terms: []string{"external/0.8", "oauth/0.6"}}, "connected account": {terms: []string{"external", "account"}, strong: true},
		"linked account": {terms: []string{"external", "account"}, strong: true}, "wallet": {terms: []string{"web3", "wallet"}},
		"metamask": {terms: []string{"web3", "wallet"}}, "crypto": {terms: []string{"web3"}},
		// Single sign-on and provisioning.
		"sso": {terms: []string{"saml", "enterprise", "connection/0.6"}}, "saml": {terms: []string{"enterprise/0.6"}},
		"single sign on": {terms: []string{"saml", "enterprise", "connection/0.6"}, strong: true},
		"okta":           {terms: []string{"saml", "enterprise", "scim/0.5"}}, "azure": {terms: []string{"saml", "enterprise"}}, "entra": {terms: []string{"saml", "enterprise"}},
		"idp": {terms: []string{"saml", "enterprise", "provider"}}, "identity provider": {terms: []string{"saml", "enterprise", "provider"}, strong: true},
		"scim": {terms: []string{"directory"}}, "directory sync": {terms: []string{"scim", "directory"}, strong: true},
		"provisioning": {terms: []string{"scim", "directory"}},
		// Applications, instances, keys, domains.
		"app": {terms: []string{"application"}, app: true}, "project": {terms: []string{"application"}, app: true},
		"application": {app: true}, "client": {terms: []string{"client/0.5"}, weak: true, host: true},
		"agency": {drop: true, plat: true}, "platform": {drop: true, plat: true}, "platform api": {drop: true, plat: true},
		"reseller": {drop: true, plat: true}, "white label": {drop: true, plat: true},
		"clerk workspace": {drop: true}, "clerk project": {terms: []string{"application"}},
		"environment": {terms: []string{"instance"}}, "env": {terms: []string{"instance"}}, "production": {terms: []string{"instance/0.6", "production"}},
		"development": {terms: []string{"instance/0.6", "development"}}, "staging": {terms: []string{"instance/0.6"}}, "prod": {terms: []string{"instance/0.6", "production"}},
		"dev": {terms: []string{"instance/0.6", "development"}}, "setting": {terms: []string{"config/0.8", "setting"}}, "config": {terms: []string{"setting/0.8"}},
		"configuration": {terms: []string{"config", "setting/0.8"}},
		"secret key":    {terms: []string{"secret", "key"}}, "api key": {terms: []string{"api", "key"}}, "sk": {terms: []string{"secret", "key"}},
		"credential": {terms: []string{"secret", "key"}}, "leak": {terms: []string{"rotate/0.6", "compromise"}},
		"dns": {terms: []string{"dns", "domain"}}, "cname": {terms: []string{"dns", "domain"}}, "custom domain": {terms: []string{"domain"}},
		"hostname": {terms: []string{"domain"}}, "url": {terms: []string{"url", "redirect/0.5"}}, "callback": {terms: []string{"redirect", "url/0.7"}},
		"allowed redirect": {terms: []string{"redirect"}}, "webhook": {terms: []string{"svix", "webhook"}}, "event": {terms: []string{"svix/0.6", "webhook/0.6"}},
		"ownership": {terms: []string{"transfer/0.7"}}, "hand over": {terms: []string{"transfer"}, verb: "create", drop: true, strong: true},
		"give": {verb: "update", drop: true}, "grant": {verb: "update", drop: true}, "award": {verb: "update", drop: true},
		"connect": {verb: "create", drop: true}, "attach": {verb: "create", drop: true}, "hook up": {verb: "create", drop: true},
		"configure": {verb: "create", drop: true}, "hand": {terms: []string{"transfer"}, verb: "create", drop: true}, "machine to machine": {terms: []string{"m2m", "machine/0.4"}, strong: true},
		"service account": {terms: []string{"machine", "m2m/0.7"}}, "oauth app": {terms: []string{"oauth", "application"}, strong: true},
		"oauth client":   {terms: []string{"oauth", "application"}, strong: true},
		"email template": {terms: []string{"template", "email"}}, "sms template": {terms: []string{"template", "sms"}},
		"test": {terms: []string{"testing/0.8"}}, "e2e": {terms: []string{"testing"}}, "playwright": {terms: []string{"testing"}}, "cypress": {terms: []string{"testing"}},
		"verification code": {terms: []string{"verification", "code"}}, "confirm": {terms: []string{"verify"}, verb: "verify"},
		"validate": {terms: []string{"verify"}, verb: "verify"}, "cancel": {verb: "cancel"}, "withdraw": {terms: []string{"revoke"}, verb: "revoke"},
		"multiple": {}, "bulk": {}, "many": {terms: []string{"multiple"}}, "batch": {terms: []string{"bulk", "multiple"}},
		"pending": {terms: []string{"pending"}},
		// Sessions and devices.
		"browser": {terms: []string{"device", "session/0.5"}}, "cookie": {terms: []string{"client/0.7", "session/0.5"}},
		"fresh": {terms: []string{"refresh"}}, "one time code": {terms: []string{"verification", "code/0.5"}, strong: true},
		"code": {terms: []string{"code", "verification/0.5"}}, "text": {terms: []string{"phone/0.6", "sms/0.6"}},
		"one click": {terms: []string{"sign", "token/0.5"}}, "valid": {terms: []string{"verify"}, verb: "verify", drop: true},
		// Who may sign up, and instance settings.
		"throwaway": {terms: []string{"disposable", "restriction/0.6"}}, "burner": {terms: []string{"disposable", "restriction/0.6"}},
		"disposable": {terms: []string{"disposable", "restriction/0.6"}}, "plus addressing": {terms: []string{"subaddress"}, strong: true},
		"email alias": {terms: []string{"subaddress"}}, "subaddress": {terms: []string{"subaddress"}},
		"sender": {terms: []string{"from"}}, "from address": {terms: []string{"from", "email"}, strong: true},
		"cors": {terms: []string{"origin"}}, "haveibeenpwned": {terms: []string{"hibp"}},
		"breach": {terms: []string{"compromise", "hibp/0.8"}}, "country": {terms: []string{"country"}}, "fraud": {terms: []string{"protect/0.8"}},
		"limit": {terms: []string{"max", "limit"}}, "cap": {terms: []string{"max"}}, "maximum": {terms: []string{"max"}},
		"feature": {terms: []string{"setting/0.7", "enable/0.5"}}, "turned on": {terms: []string{"enable"}, verb: "get", drop: true},
		"protection": {terms: []string{"protect"}},
		// Billing.
		"tier": {terms: []string{"plan", "price/0.6"}},
		"bill": {terms: []string{"statement", "billing/0.6"}}, "receipt": {terms: []string{"statement"}},
		"charge": {terms: []string{"payment", "attempt/0.6"}}, "monthly": {terms: []string{"price/0.6"}}, "annual": {terms: []string{"price/0.6"}},
		"yearly": {terms: []string{"price/0.6"}}, "upgrade": {terms: []string{"transition", "price/0.6"}, verb: "create"},
		"downgrade": {terms: []string{"transition", "price/0.6"}, verb: "create"}, "balance": {terms: []string{"credit", "balance"}},
		// Directories and enterprise connections.
		"idp group": {terms: []string{"group", "directory/0.5"}, strong: true}, "mapping": {terms: []string{"mapping"}},
		"group of roles": {terms: []string{"role set"}, strong: true},
		// Domains and redirects.
		"satellite": {terms: []string{"satellite", "domain"}}, "return address": {terms: []string{"redirect", "url"}, strong: true},
		"deep link": {terms: []string{"redirect", "url"}, strong: true}, "redirect": {terms: []string{"redirect", "url/0.7"}},
		"ssl": {terms: []string{"ssl", "status/0.6"}}, "certificate": {terms: []string{"ssl", "status/0.6"}}, "cert": {terms: []string{"ssl", "status/0.6"}},
		"auto join": {terms: []string{"domain", "enrollment"}, strong: true}, "automatically join": {terms: []string{"domain", "enrollment"}, strong: true},
		"signing key": {terms: []string{"jwks"}, strong: true}, "verification key": {terms: []string{"jwks"}, strong: true},
		// Templates.
		"wording": {terms: []string{"template"}}, "copy": {terms: []string{"template/0.6"}}, "subject line": {terms: []string{"template"}},
		"delivery": {terms: []string{"delivery", "template/0.5"}}, "deliver": {terms: []string{"delivery", "template/0.5"}},
		// Machines and keys.
		"m2m": {terms: []string{"m2m", "machine/0.5"}}, "service to service": {terms: []string{"m2m", "machine/0.5"}, strong: true},
		"service": {terms: []string{"machine/0.5"}}, "keyless": {terms: []string{"accountless"}},
		"auth config": {terms: []string{"config"}, strong: true}, "auth setting": {terms: []string{"config", "setting/0.8"}},
	}
}

// stopwords carry no meaning for the ranking.
const stopwords = "a an the of for to in on at by my our your their his her its me we us i you they them it this that " +
	"these those and or with from into out off as is are was were be been being do does did have has had can could should " +
	"would will want wants need needs how which who whom whose where when why please just some any each one there here so " +
	"api endpoint clerk via using use way able let lets also only without within about them his her him she he again " +
	"whether correct correctly properly working current currently now already still them anymore no not don t s their theirs"

func setOf(s string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(s) {
		m[w] = true
	}
	return m
}

// vocabulary is the tables a query is read with, made of verbWords, the
// lexicon, idPrefixes and the word lists (stopwords, particles,
// undoWords, manyWords, filterWords).
type vocabulary struct {
	senses      map[string]sense  // lexicon and verbWords, keyed by stemmed phrase
	longest     int               // words in the longest phrase of senses
	verbs       map[string]string // verbWords, as written
	stopwords   map[string]bool
	particles   map[string]bool
	undoWords   map[string]bool
	manyWords   map[string]bool
	filterWords map[string]bool
	sampleNames map[string]bool
	idPrefixes  map[string]string
}

// vocab is the vocabulary, built once, on first use.
var vocab = sync.OnceValue(func() *vocabulary {
	v := &vocabulary{
		senses:      map[string]sense{},
		longest:     1,
		verbs:       verbWords(),
		stopwords:   setOf(stopwords),
		particles:   setOf(particles),
		undoWords:   setOf(undoWords),
		manyWords:   setOf(manyWords),
		filterWords: setOf(filterWords),
		sampleNames: setOf(sampleNames),
		idPrefixes:  idPrefixes(),
	}
	key := func(phrase string) string {
		toks := tokens(phrase)
		for i, t := range toks {
			toks[i] = stem(t)
		}
		v.longest = max(v.longest, len(toks))
		return strings.Join(toks, " ")
	}
	for phrase, verb := range v.verbs {
		k := key(phrase)
		s := v.senses[k]
		s.verb, s.drop = verb, true
		v.senses[k] = s
	}
	for phrase, s := range lexicon() {
		k := key(phrase)
		if prev, ok := v.senses[k]; ok && s.verb == "" {
			s.verb = prev.verb // "cancel" is both
		}
		v.senses[k] = s
	}
	return v
})

// manyWords ask for a bulk operation.
const manyWords = "bulk multiple batch many several import csv mass"

// isPlentiful reports whether w is a number greater than one: "invite 40
// people" is a bulk invitation.
func isPlentiful(w string) bool {
	n, err := strconv.Atoi(w)
	return err == nil && n > 1
}

// filterWords introduce what a list is filtered by: "find a user by
// email", "organizations with more than 10 members".
const filterWords = "by with whose where named called matching having"

// sampleNames are the made-up people and companies that the requests in
// requests/ use as values ("invite jane to the Acme workspace"), with
// those of the docs and tutorials users copy from. A name says nothing
// about the operation wanted: the requests would otherwise tie "Acme" to
// whichever operations their writers happened to use it for.
const sampleNames = "acme globex initech contoso umbrella hooli jane john doe bob alice tom sam maria carol ana"

// idPrefixes are the prefixes of Clerk's object ids, with what they name:
// "user_2abc" is one user, "sess_123" one session.
func idPrefixes() map[string]string {
	return map[string]string{
		"user": "user", "sess": "session", "org": "organization", "orginv": "organization invitation",
		"orgmem": "membership", "inv": "invitation", "ins": "instance", "app": "application",
		"idn": "email address", "jtmp": "jwt template", "mch": "machine", "ak": "api key",
		"dmn": "domain", "sia": "sign in", "sua": "sign up", "client": "client", "rol": "role",
		"perm": "permission", "oat": "oauth access token", "m2m": "m2m token", "act": "actor token",
		"saml": "saml connection", "ext": "external account", "wle": "waitlist", "cplan": "plan",
	}
}

// literals takes the values out of a query (email addresses, domains,
// URLs, object ids) and adds what each says about the operation wanted:
// an email address is a way to find a user, a domain an identifier to
// allow or block, a URL most often a redirect, "user_2abc" one user.
// Their own words ("jane", "acme", "com") would otherwise match at
// random. It returns the query without them.
func (pq *parsedQuery) literals(q string, idx *catalogIndex) string {
	fields := strings.Fields(q)
	kept := fields[:0]
	var email, domain, url bool
	for _, f := range fields {
		lf := strings.Trim(strings.ToLower(f), ".,;:!?()'\"`")
		switch literalKind(lf) {
		case "url":
			url = true
		case "email":
			email = true
		case "domain":
			domain = true
		default:
			if i := strings.IndexByte(lf, '_'); i > 0 && len(lf)-i > 4 && strings.IndexFunc(lf[i+1:], unicode.IsDigit) >= 0 {
				if what, ok := vocab().idPrefixes[lf[:i]]; ok {
					pq.addGroup(group{alts: alts(what), weight: 1, one: true}, idx)
					continue
				}
			}
			kept = append(kept, f)
			continue
		}
	}
	switch {
	case email:
		pq.addGroup(group{alts: alts("email address", "email", "identifier/0.6"), weight: 1}, idx)
	case domain:
		pq.addGroup(group{alts: alts("identifier", "domain/0.8", "email/0.6"), weight: 1}, idx)
	}
	if url {
		pq.addGroup(group{alts: alts("url", "redirect/0.6"), weight: 1}, idx)
	}
	return strings.Join(kept, " ")
}

// literalKind says what value a lower-cased word of a query is: "url",
// "email", "domain", or "" for a word.
func literalKind(lf string) string {
	switch {
	case strings.Contains(lf, "://"):
		return "url"
	case strings.Contains(lf, "@") && strings.Contains(lf[strings.Index(lf, "@"):], "."):
		return "email"
	case strings.Contains(lf, ".") && len(lf) > 3 && !strings.Contains(lf, ".."):
		return "domain"
	}
	return ""
}

// parseQuery splits a query into groups of catalog stems and an intent.
func parseQuery(q string, idx *catalogIndex) parsedQuery {
	v := vocab()
	pq := parsedQuery{mentions: map[string]bool{}, one: map[string]bool{}}
	q = pq.literals(q, idx)
	raw := tokens(q)
	stems := make([]string, len(raw))
	for i, t := range raw {
		stems[i] = stem(t)
	}
	var own []string
	var person, grp, filter, singular, undo, plural, app, plat bool
	var hosts []int // groups of workspace and client words
	for i := 0; i < len(stems); {
		// The longest phrase of the lexicon that starts here wins: "sign in
		// as" before "sign in" before "sign".
		n, s, ok := 0, sense{}, false
		for l := min(v.longest, len(stems)-i); l >= 1; l-- {
			if sn, found := v.senses[strings.Join(stems[i:i+l], " ")]; found {
				n, s, ok = l, sn, true
				break
			}
		}
		if v.filterWords[raw[i]] {
			filter = true
		}
		if !ok {
			n = 1
			if v.stopwords[raw[i]] || v.stopwords[stems[i]] {
				i++
				continue
			}
			if idx.actions[stems[i]] {
				s.verb = stems[i] // "revoke", "rotate": an action path's own word
			}
		}
		word := strings.Join(stems[i:i+n], " ")
		if v.manyWords[word] || isPlentiful(raw[i]) {
			pq.bulk = true
		}
		if v.undoWords[raw[i]] {
			undo = true
		}
		if !s.drop {
			plural = strings.HasSuffix(raw[i+n-1], "s") && stems[i+n-1] != raw[i+n-1]
		}
		i += n
		// The first verb says what to do, but "see everyone", "show all"
		// ask for a list, not one item.
		if s.verb != "" && (pq.verb == "" || pq.verb == "get" && s.verb == "list") {
			pq.verb = s.verb
		}
		if !strings.HasSuffix(raw[i-n], "s") && !s.drop {
			singular = true
		}
		person = person || s.person
		grp = grp || s.group && !s.host
		app = app || s.app
		plat = plat || s.plat
		if raw[i-n] == "across" {
			pq.across = true
		}
		if s.host {
			hosts = append(hosts, len(pq.groups))
		}
		if s.drop {
			// A verb's own word still helps a little where a summary uses
			// it ("Count users", "Trigger DNS check"), but it is no content
			// word a result must have.
			if s.verb != "" {
				g := group{alts: alts(word), weight: 0.5, weak: true}
				if !isCoreVerb(s.verb) || s.verb == "count" {
					g.alts = append(g.alts, parseAlt(s.verb))
				}
				pq.addGroup(g, idx)
			}
			if len(s.terms) == 0 {
				continue
			}
		}
		g := group{weight: 1, filter: filter, one: singular && !filter, weak: s.weak}
		singular = false
		if s.strong {
			g.weight = 1.5
		}
		if !s.drop {
			own = append(own, strings.ReplaceAll(word, " ", "_"))
			// The word itself, unless the lexicon weighs it ("account" is
			// first a user, and only then an external account).
			if !slices.ContainsFunc(s.terms, func(t string) bool { return slices.Equal(parseAlt(t).stems, strings.Fields(word)) }) {
				g.alts = append(g.alts, alt{strings.Fields(word), 1})
			}
		}
		for _, t := range s.terms {
			g.alts = append(g.alts, parseAlt(t))
		}
		pq.addGroup(g, idx)
	}
	// The apps of a workspace, a client's app, apps across the board: the
	// Platform API, where "workspace" is no organization.
	pq.platform = plat || app && (len(hosts) > 0 || pq.across)
	if pq.platform && len(hosts) > 0 {
		kept := pq.groups[:0]
		pq.total = 0
		for k, g := range pq.groups {
			if slices.Contains(hosts, k) {
				continue
			}
			kept = append(kept, g)
			if !g.weak {
				pq.total += g.weight
			}
		}
		pq.groups = kept
		delete(pq.mentions, "organization")
	} else if len(hosts) > 0 {
		grp = true
	}
	// Someone in a team is a membership: "kick someone out of a team",
	// "add a user to an organization".
	if person && grp && !pq.mentions["membership"] {
		pq.addGroup(group{alts: alts("membership"), weight: 1}, idx)
	}
	// "Lift the ban", "restore access we suspended": the un- action.
	if undo {
		for _, g := range slices.Clone(pq.groups) {
			for _, a := range g.alts {
				if un := "un" + a.stems[0]; len(a.stems) == 1 && idx.actions[un] {
					pq.verb = un
					pq.addGroup(group{alts: alts(un), weight: 1.5}, idx)
				}
			}
		}
	}
	// "Show invoices", "which domains": many things are a list.
	if pq.verb == "get" && plural || pq.verb == "" && plural {
		pq.verb = "list"
	}
	pq.verbStem, pq.class = stem(pq.verb), classOf(pq.verb)
	pq.joined = strings.Join(own, "_")
	if len(own) > 0 {
		pq.head = own[len(own)-1]
	}
	return pq
}

func alts(terms ...string) []alt {
	out := make([]alt, len(terms))
	for i, t := range terms {
		out[i] = parseAlt(t)
	}
	return out
}

// addGroup keeps the alternatives the catalog knows; a group it knows none
// of ("debug", "issue") would only lower every endpoint's coverage.
func (pq *parsedQuery) addGroup(g group, idx *catalogIndex) {
	var known []alt
	for _, a := range g.alts {
		if !slices.ContainsFunc(a.stems, func(s string) bool { _, ok := idx.idf[s]; return !ok }) &&
			!slices.ContainsFunc(known, func(k alt) bool { return slices.Equal(k.stems, a.stems) }) {
			known = append(known, a)
			pq.mentions[strings.Join(a.stems, "_")] = true
			if g.one && len(a.stems) == 1 {
				pq.one[a.stems[0]] = true
			}
		}
	}
	if len(known) == 0 {
		return
	}
	g.alts = known
	pq.groups = append(pq.groups, g)
	if !g.weak {
		pq.total += g.weight
	}
}

// parseAlt reads a lexicon term: "profile image/0.8" is both stems, at
// weight 0.8.
func parseAlt(t string) alt {
	w := 1.0
	if i := strings.IndexByte(t, '/'); i >= 0 {
		w, _ = strconv.ParseFloat(t[i+1:], 64)
		t = t[:i]
	}
	var stems []string
	for _, tok := range tokens(t) {
		stems = append(stems, stem(tok))
	}
	return alt{stems, w}
}

// tokens lowercases s and splits it on anything but letters and digits and
// at camelCase boundaries.
func tokens(s string) []string {
	if isASCII(s) {
		return asciiTokens(s)
	}
	return runeTokens(s)
}

// runeTokens is tokens for any text.
func runeTokens(s string) []string {
	var out []string
	var cur []rune
	flush := func() {
		if len(cur) > 0 {
			out = append(out, strings.ToLower(string(cur)))
			cur = cur[:0]
		}
	}
	rs := []rune(s)
	for i, r := range rs {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if unicode.IsUpper(r) && len(cur) > 0 && (unicode.IsLower(rs[i-1]) ||
				(i+1 < len(rs) && unicode.IsLower(rs[i+1]))) {
				flush()
			}
			cur = append(cur, r)
		default:
			flush()
		}
	}
	flush()
	return out
}

// asciiTokens is tokens for ASCII text, without decoding runes: the
// catalog's texts and most queries are ASCII, and the first search
// tokenizes a few megabytes of them.
func asciiTokens(s string) []string {
	var out []string
	start := -1
	lower := func(c byte) bool { return 'a' <= c && c <= 'z' }
	upper := func(c byte) bool { return 'A' <= c && c <= 'Z' }
	flush := func(end int) {
		if start >= 0 {
			out = append(out, strings.ToLower(s[start:end]))
			start = -1
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case lower(c) || upper(c) || '0' <= c && c <= '9':
			if upper(c) && start >= 0 && (lower(s[i-1]) || i+1 < len(s) && lower(s[i+1])) {
				flush(i)
			}
			if start < 0 {
				start = i
			}
		default:
			flush(i)
		}
	}
	flush(len(s))
	return out
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// stem reduces an English word to a stem shared by its inflections, the
// same way for queries and the catalog: "banned", "banning" and "bans"
// are all "ban"; "invited" and "invite" are "invit"; "membership" is
// "member". It is deliberately light (plurals, -ing, -ed, -ship, a final
// e): a stronger stemmer merges words that Clerk keeps apart, such as
// "organization" and "organize".
func stem(w string) string {
	if len(w) <= 3 {
		return w
	}
	switch {
	case strings.HasSuffix(w, "ies") && len(w) > 4:
		w = w[:len(w)-3] + "y"
	case strings.HasSuffix(w, "sses"), strings.HasSuffix(w, "xes"), strings.HasSuffix(w, "ches"), strings.HasSuffix(w, "shes"):
		w = w[:len(w)-2]
	case strings.HasSuffix(w, "s") && !strings.HasSuffix(w, "ss") && !strings.HasSuffix(w, "us") && !strings.HasSuffix(w, "is"):
		w = w[:len(w)-1]
	}
	switch {
	case strings.HasSuffix(w, "ied") && len(w) > 4:
		w = w[:len(w)-3] + "y"
	case strings.HasSuffix(w, "ing") && len(w) > 5 && hasVowel(w[:len(w)-3]):
		w = undouble(w[:len(w)-3])
	case strings.HasSuffix(w, "ed") && len(w) > 4 && !strings.HasSuffix(w, "eed") && hasVowel(w[:len(w)-2]):
		w = undouble(w[:len(w)-2])
	}
	if len(w) > 7 && strings.HasSuffix(w, "ship") {
		w = w[:len(w)-4]
	}
	if len(w) > 4 && strings.HasSuffix(w, "e") {
		w = w[:len(w)-1]
	}
	return w
}

func hasVowel(s string) bool { return strings.ContainsAny(s, "aeiouy") }

// undouble turns "bann" (from "banned") into "ban"; "ll" and "ss" stay, as
// in "billing" and "passing".
func undouble(w string) string {
	if n := len(w); n >= 3 && w[n-1] == w[n-2] && strings.IndexByte("bdgmnpt", w[n-1]) >= 0 {
		return w[:n-1]
	}
	return w
}
