#!/bin/sh
# Every vt-codegen error: exit 2, a message naming the file and the field path.
# Usage: test_errors.sh VT_CODEGEN BAD_DIR
set -u
gen=$1 dir=$2 out=$(mktemp -d) fails=0
trap 'rm -rf "$out"' EXIT
check() { # FILE EXPECTED-SUBSTRING
    msg=$("$gen" -o "$out" "$dir/$1.avsc" 2>&1 >/dev/null)
    rc=$?
    case "$msg" in
    *"$dir/$1.avsc: "*"$2"*) [ $rc -eq 2 ] && return ;;
    esac
    echo "FAIL $1: exit $rc, got: $msg (want: $2)"
    fails=$((fails + 1))
}
check not_record "the schema must be a record"
check unsupported_type 'x: unknown type "decimal128"'
check unsupported_logical 'x: unsupported logical type "time-millis"'
check keyword_field 'int: the field name "int" clashes with a C or C++ keyword'
check cpp_keyword_field 'class: the field name "class" clashes with a C or C++ keyword'
check reserved_field '__x: the field name "__x" is a reserved C identifier'
check bad_constraint_kind 'x: constraint vt.min applies to numbers, not to string'
check bad_constraint_int 'x: constraint vt.max: the bound is not a value of type int'
check empty_range 'x: constraint: the range [2, 1] is empty'
check unknown_constraint 'x: unknown constraint vt.maximum'
check bad_format 'x: constraint vt.format: the only format is "uuid"'
check bad_now 'x: vt.default "now" applies to timestamp-millis and timestamp-micros fields'
check nested_path 'data.lat: constraint vt.min: expected a number'
check has_clash 'the field has_x clashes with the presence flag of x'
check name_clash 'the generated name r_a_t of the type R_a clashes with the one of the map at a'
check symbol_clash 'the enum symbols a and A give the same C constant'
check recursive 'next<1>: the recursive type R is not supported'
check bad_default 'x: default: expected a value of type int'
check bad_enum_default 'e: the enum default "B" is not a symbol'
check dup_field 'x: the field is defined twice'
check dup_union 'x<1>: the union holds int twice'
check unknown_named 'x: unknown type "Nope"'
check array_of_null 'x: an array of null is not supported'
check bad_decimal 'x: decimal: scale must be an integer in [0, precision]'
check bad_json 'line 2, column 0'
check key_nested 'data.id: vt.key belongs on a field of the top-level record'
check key_not_string 'id: vt.key applies to string fields (not optional), not to long'
check key_twice 'b: vt.key: the field a is already the key'
check bad_cname 'e: vt.cname: expected a C name in lower case (letters, digits, '"'"'_'"'"')'
check cname_on_field 'x: vt.cname belongs on a named type (record, enum, fixed)'
# two files defining the same name differently
printf '%s\n' '{"type": "record", "name": "R", "fields": [{"name": "p", "type": {"type": "record", "name": "P", "fields": [{"name": "a", "type": "int"}]}}]}' >"$out/one.avsc"
printf '%s\n' '{"type": "record", "name": "S", "fields": [{"name": "p", "type": {"type": "record", "name": "P", "fields": [{"name": "b", "type": "int"}]}}]}' >"$out/two.avsc"
msg=$("$gen" -o "$out" "$out/one.avsc" "$out/two.avsc" 2>&1)
rc=$?
case "$msg" in *"two.avsc: p: the generated name p_t of the type P clashes"*) [ $rc -eq 2 ] || fails=$((fails + 1)) ;; *) echo "FAIL cross-file: $msg"; fails=$((fails + 1)) ;; esac
[ -e "$out/one.h" ] && { echo "FAIL: files written despite an error"; fails=$((fails + 1)); }
# usage
"$gen" >/dev/null 2>&1; [ $? -eq 2 ] || { echo "FAIL: no arguments should exit 2"; fails=$((fails + 1)); }
[ $fails -eq 0 ] && echo "all generator errors checked" && exit 0
exit 1
