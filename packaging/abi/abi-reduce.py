#!/usr/bin/env python3
"""Cut abidw's XML of libvoucherify down to the C ABI, and nothing else.

usage: abi-reduce.py FULL.abi HEADER ENUM... > REDUCED.abi

Why: rustc's DWARF has no DW_AT_decl_file on types, so abidw's
`--headers-dir include --drop-private-types` cannot tell public types from
private ones, and every Rust type reachable from the opaque handles
(vf_client -> Arc<Client> -> ureq -> rustls ...) ends up in the XML: about
1.5 MB that changes with every dependency update. What the C ABI is made of
is much smaller, and this keeps exactly that, from the library's own DWARF:

- the exported vf_* functions, with their parameter and return types,
  followed through pointers, const, typedefs and arrays down to base types;
- the opaque handle types (`typedef struct vf_x vf_x;` in HEADER) as
  declaration-only structs: their Rust fields are private, so their layout
  is not part of the ABI;
- the enums named ENUM (the Rust names that cbindgen renames to the
  header's vf_status, vf_tls_roots), with their enumerators, reachable or not;
- the ELF symbol table of the vf_* functions.

Type ids must be abidw's `--type-id-style hash` ones, so that the output is
the same for the same ABI. The result is ordinary ABIXML that abidiff reads.
"""
import re
import sys
import xml.etree.ElementTree as ET

full, header, enums = sys.argv[1], sys.argv[2], set(sys.argv[3:])
opaque = set(re.findall(r"^typedef struct (vf_\w+) \1;", open(header).read(), re.M))
root = ET.parse(full).getroot()

by_id = {}        # type id -> element
functions = []    # exported vf_* function-decl elements
wanted_enums = []
def walk(node, ns):
    for child in node:
        tag, name = child.tag, child.get("name", "")
        if tag == "namespace-decl":
            walk(child, ns + [name])
            continue
        if "id" in child.attrib and tag != "subrange":
            by_id.setdefault(child.get("id"), child)
        if tag == "function-decl" and child.get("elf-symbol-id", "").startswith("vf_"):
            functions.append(child)
        elif tag == "enum-decl" and ns[:1] == ["voucherify"] and name in enums:
            if child.get("id") not in {e.get("id") for e in wanted_enums}:
                wanted_enums.append(child)
for instr in root.iter("abi-instr"):
    walk(instr, [])

def refs(el):
    return [d.get("type-id") for d in el.iter() if d.get("type-id")]

keep = {}   # type id -> element to write
def close(todo):
    """Keeps the types with ids in todo and everything they refer to."""
    while todo:
        tid = todo.pop()
        if tid in keep:
            continue
        el = by_id.get(tid)
        if el is None:
            sys.exit(f"abi-reduce: type id {tid} is not defined in {full}")
        if el.tag == "class-decl" and el.get("name") in opaque:
            el = ET.Element(el.tag, {"name": el.get("name"), "is-struct": "yes", "visibility": "default",
                                     "is-declaration-only": "yes", "id": tid})
        # Any other struct (one the header would declare with its fields)
        # is kept whole: its layout is ABI.
        keep[tid] = el
        todo.extend(refs(el))

close([t for f in functions for t in refs(f)])
# The enums no function uses (vf_tls_roots travels as an int): abidiff
# compares them only with --non-reachable-types, which wants them marked.
for e in wanted_enums:
    if e.get("id") not in keep:
        e.set("is-non-reachable", "yes")
close([e.get("id") for e in wanted_enums])

missing = sorted(opaque - {e.get("name") for e in keep.values()})
found_enums = {e.get("name") for e in wanted_enums}
if enums - found_enums:
    sys.exit(f"abi-reduce: no enum {sorted(enums - found_enums)} under voucherify:: in {full}")

order = ["type-decl", "enum-decl", "class-decl", "union-decl", "typedef-decl",
         "qualified-type-def", "pointer-type-def", "array-type-def", "function-type"]
def key(el):
    return (order.index(el.tag) if el.tag in order else len(order), el.get("name", ""), el.get("id"))

out = ET.Element("abi-corpus", {k: v for k, v in root.attrib.items() if k in ("version", "architecture", "soname")})
out.set("tracking-non-reachable-types", "yes")
syms = ET.SubElement(out, "elf-function-symbols")
symtab = root.find("elf-function-symbols")
for s in sorted(symtab if symtab is not None else [], key=lambda s: s.get("name")):
    if s.get("name", "").startswith("vf_"):
        s.attrib.pop("alias", None)   # identical code folded by the linker: not ABI
        syms.append(s)
instr = ET.SubElement(out, "abi-instr", {"address-size": "64", "path": "libvoucherify C API", "language": "LANG_C"})
for el in sorted(keep.values(), key=key):
    instr.append(el)
seen = set()
for f in sorted(functions, key=lambda f: f.get("name")):
    if f.get("name") not in seen:   # the same function may appear in several units
        seen.add(f.get("name"))
        instr.append(f)
ET.indent(out, "  ")
sys.stdout.write(ET.tostring(out, encoding="unicode") + "\n")
if missing:
    print(f"abi-reduce: note: header types not used by any function: {missing}", file=sys.stderr)
