//! Every C export runs inside the panic boundary: each `extern "C" fn` in
//! src/ffi hands its whole body to `boundary`, `boundary_value` or `field`
//! (which wraps `boundary_value`), and is `#[no_mangle]` with a `vf_` name.

use std::path::Path;

#[test]
fn every_export_runs_inside_the_panic_boundary() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/ffi");
    let mut exports = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let source = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = source.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            if !line.contains("extern \"C\" fn ") {
                continue;
            }
            exports += 1;
            let name = line.split("fn ").nth(1).unwrap().split('(').next().unwrap();
            assert!(
                name.starts_with("vf_"),
                "{}: {name} lacks the vf_ prefix",
                path.display()
            );
            assert_eq!(lines[i - 1].trim(), "#[no_mangle]", "{name} is not #[no_mangle]");
            // The body: from the line after the signature's `{` to the first
            // statement, skipping SAFETY comments.
            let open = (i..lines.len()).find(|&j| lines[j].trim_end().ends_with('{')).unwrap();
            let first = lines[open + 1..]
                .iter()
                .map(|l| l.trim())
                .find(|l| !l.starts_with("//"))
                .unwrap();
            assert!(
                ["boundary(", "boundary_value(", "field("]
                    .iter()
                    .any(|b| first.starts_with(b)),
                "{name} does not start with the panic boundary: {first}"
            );
        }
    }
    assert!(exports >= 20, "found only {exports} exports");
}
