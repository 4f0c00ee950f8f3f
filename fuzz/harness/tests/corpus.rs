//! Every input kept in `fuzz/corpus/<target>/` (what fuzzing found interesting, and the
//! crashes it found, fixed) runs through its target: a regression test on stable.

use std::path::Path;

#[test]
fn corpus_replays_without_panics() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus");
    for (name, target) in dimse_fuzz::TARGETS {
        let dir = root.join(name);
        let mut inputs = 0;
        for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.unwrap().path();
            target(&std::fs::read(&path).unwrap());
            inputs += 1;
        }
        assert!(
            inputs > 0,
            "{}: the corpus of {name} is empty",
            dir.display()
        );
        eprintln!("{name}: {inputs} inputs replayed");
    }
}
