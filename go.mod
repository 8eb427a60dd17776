module github.com/seqack/seqack

go 1.26
