// Package layers holds the test that keeps seqack's packages in their
// layers (see the package table in README.md): each package is checked
// against the imports it must not pull in, directly or through the
// module's other packages.
package layers
