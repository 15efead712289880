package otelred

import "net/http"

// methodOther is the index of every method outside the nine standard ones.
const methodOther = 9

// numMethods is the number of distinct method values otelred records.
const numMethods = methodOther + 1

// methodNames maps a method index to its attribute value. Methods are
// case-sensitive, as HTTP says: "get" is not GET.
var methodNames = [numMethods]string{
	http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodDelete,
	http.MethodConnect, http.MethodOptions, http.MethodTrace, http.MethodPatch,
	"_OTHER",
}

// methodIndex maps a request method onto the fixed set of ten values, so
// that a client can never create a new series by inventing a method.
func methodIndex(m string) uint8 {
	switch m {
	case http.MethodGet:
		return 0
	case http.MethodHead:
		return 1
	case http.MethodPost:
		return 2
	case http.MethodPut:
		return 3
	case http.MethodDelete:
		return 4
	case http.MethodConnect:
		return 5
	case http.MethodOptions:
		return 6
	case http.MethodTrace:
		return 7
	case http.MethodPatch:
		return 8
	}
	return methodOther
}
