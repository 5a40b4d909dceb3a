package apispec

import "strings"

// Router finds the operation a concrete path belongs to among path
// templates such as /users/{user_id}. A literal segment beats a
// parameter: /users/count is GetUsersCount, not GetUser. Paths are
// matched with this template matcher rather than a library's router: the
// specs' servers carry a host, and routers differ on that tie-break.
type Router[T any] struct {
	routes []route[T]
}

type route[T any] struct {
	method   string
	segments []string
	value    T
}

// Add registers value for method and a path template.
func (r *Router[T]) Add(method, template string, value T) {
	r.routes = append(r.routes, route[T]{strings.ToUpper(method), splitPath(template), value})
}

// Find returns the value for method and a concrete path, and the values
// of the template's parameters.
func (r *Router[T]) Find(method, path string) (value T, params map[string]string, ok bool) {
	method = strings.ToUpper(method)
	segs := splitPath(path)
	var best *route[T]
	for i := range r.routes {
		rt := &r.routes[i]
		if rt.method != method || len(rt.segments) != len(segs) {
			continue
		}
		p, match := rt.match(segs)
		if !match {
			continue
		}
		if best == nil || rt.beats(best) {
			best, params = rt, p
		}
	}
	if best == nil {
		return value, nil, false
	}
	return best.value, params, true
}

// beats prefers the route whose first differing segment is literal:
// /users/{id}/ban over /users/{a}/{b}, /users/count over /users/{id}.
func (rt *route[T]) beats(other *route[T]) bool {
	for i := range rt.segments {
		a, b := isParam(rt.segments[i]), isParam(other.segments[i])
		if a != b {
			return !a
		}
	}
	return false
}

func (rt *route[T]) match(segs []string) (map[string]string, bool) {
	var params map[string]string
	for i, seg := range rt.segments {
		if isParam(seg) {
			if segs[i] == "" {
				return nil, false
			}
			if params == nil {
				params = map[string]string{}
			}
			params[seg[1:len(seg)-1]] = segs[i]
			continue
		}
		if seg != segs[i] {
			return nil, false
		}
	}
	return params, true
}

func splitPath(p string) []string {
	return strings.Split(strings.Trim(p, "/"), "/")
}

func isParam(seg string) bool {
	return len(seg) > 2 && seg[0] == '{' && seg[len(seg)-1] == '}'
}
