//! The Kubernetes manifests in `deploy/`, checked offline against the Kubernetes API's own
//! schemas by `kubernetes-validate` (installed from PyPI, pinned by hash in
//! `clients/requirements.txt`, by `support/python.rs`), in strict mode: a misspelt or misplaced
//! field fails like a wrong type. Every manifest must pass against the oldest and the newest
//! Kubernetes version the pinned validator ships schemas for; a manifest broken on purpose must
//! fail, so a validator that accepts anything cannot pass unnoticed.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use integration_tests::python::python;
use integration_tests::repo_root;

/// The oldest and the newest Kubernetes version kubernetes-validate 1.37.0 has schemas for.
const KUBERNETES_VERSIONS: [&str; 2] = ["1.25.0", "1.37.0"];

/// kustomize's own file, not a Kubernetes object: `kustomization_lists_manifests_of_deploy`
/// checks it.
const KUSTOMIZATION: &str = "kustomization.yaml";

/// The objects `deploy/` must hold, as the validator names them (`kind/name`).
const EXPECTED_OBJECTS: [&str; 7] = [
    "configmap/pressroom-api",
    "secret/pressroom-database",
    "deployment/pressroom-api",
    "service/pressroom-api",
    "horizontalpodautoscaler/pressroom-api",
    "poddisruptionbudget/pressroom-api",
    "job/pressroom-ingest",
];

fn deploy_dir() -> PathBuf {
    repo_root().join("deploy")
}

/// Every YAML file of `deploy/` but the kustomization, in name order.
fn manifests() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(deploy_dir())
        .expect("deploy/ is readable")
        .map(|entry| entry.expect("a deploy/ entry").path())
        .filter(|path| {
            path.extension()
                .is_some_and(|extension| extension == "yaml" || extension == "yml")
                && path.file_name().is_some_and(|name| name != KUSTOMIZATION)
        })
        .collect();
    files.sort();
    files
}

/// What `kubernetes-validate` said about some files.
struct Verdict {
    /// It exited 0 and printed nothing but `INFO … passed` lines.
    accepted: bool,
    /// Its `INFO … passed for resource kind/name against version x.y` lines.
    passed: Vec<String>,
    /// Every other line: `ERROR` (invalid), `WARN` (no schema for the kind, which the tool
    /// itself lets pass), `FATAL`, or anything unexpected.
    problems: Vec<String>,
    /// Everything it printed, for failure messages.
    output: String,
}

/// Runs `kubernetes-validate --strict` on `files` against every version of
/// `KUBERNETES_VERSIONS`.
fn validate(files: &[PathBuf]) -> Verdict {
    let python = python();
    let mut command = Command::new(&python);
    command.args(["-m", "kubernetes_validate", "--strict"]);
    for version in KUBERNETES_VERSIONS {
        command.args(["--kubernetes-version", version]);
    }
    let output = command
        .args(files)
        .current_dir(repo_root())
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run {} -m kubernetes_validate: {e}",
                python.display()
            )
        });
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let (passed, problems): (Vec<String>, Vec<String>) = stdout
        .lines()
        .chain(stderr.lines())
        .filter(|line| !line.trim().is_empty())
        .map(str::to_owned)
        .partition(|line| line.starts_with("INFO ") && line.contains(" passed for resource "));
    Verdict {
        accepted: output.status.success() && problems.is_empty(),
        passed,
        problems,
        output: format!("exit status: {}\n{stdout}{stderr}", output.status),
    }
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .expect("a file name")
        .to_string_lossy()
        .into_owned()
}

#[test]
fn every_manifest_in_deploy_is_a_valid_kubernetes_object() {
    let files = manifests();
    assert!(!files.is_empty(), "deploy/ holds no manifest");
    let verdict = validate(&files);
    assert!(
        verdict.accepted,
        "kubernetes-validate refused deploy/: {:?}\n{}",
        verdict.problems, verdict.output
    );
    for file in &files {
        for version in KUBERNETES_VERSIONS {
            let minor = version.trim_end_matches(".0");
            assert!(
                verdict.passed.iter().any(|line| {
                    line.contains(&format!("{} passed", file_name(file)))
                        && line.ends_with(&format!("against version {minor}"))
                }),
                "{} was not validated against Kubernetes {minor}:\n{}",
                file.display(),
                verdict.output
            );
        }
    }
    for object in EXPECTED_OBJECTS {
        assert!(
            verdict
                .passed
                .iter()
                .any(|line| line.contains(&format!("for resource {object} against"))),
            "no {object} among the manifests of deploy/:\n{}",
            verdict.output
        );
    }
}

#[test]
fn kustomization_lists_manifests_of_deploy() {
    let text = std::fs::read_to_string(deploy_dir().join(KUSTOMIZATION))
        .expect("deploy/kustomization.yaml is readable");
    let resources: Vec<&str> = text
        .lines()
        .skip_while(|line| *line != "resources:")
        .skip(1)
        .take_while(|line| line.starts_with("  - ") || line.trim_start().starts_with('#'))
        .filter_map(|line| line.strip_prefix("  - "))
        .map(str::trim)
        .collect();
    assert!(
        !resources.is_empty(),
        "kustomization.yaml lists no resources:\n{text}"
    );
    let manifests: Vec<String> = manifests().iter().map(|path| file_name(path)).collect();
    for resource in resources {
        assert!(
            manifests.iter().any(|name| name == resource),
            "kustomization.yaml lists {resource}, which is not a manifest of deploy/ \
             ({manifests:?})"
        );
    }
}

#[test]
fn a_broken_manifest_is_refused() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    // Each case: a manifest of deploy/, one string in it, what replaces it.
    let cases = [
        // A misspelt field: only strict validation refuses unknown properties.
        ("api-deployment.yaml", "readinessProbe:", "readinessProbes:"),
        // A wrong type.
        ("api-hpa.yaml", "minReplicas: 2", "minReplicas: two"),
        // A misspelt kind has no schema: the validator only warns, which counts as refused.
        ("api-service.yaml", "kind: Service", "kind: Servcie"),
    ];
    let mut broken = Vec::new();
    for (file, from, to) in cases {
        let original = std::fs::read_to_string(deploy_dir().join(file))
            .unwrap_or_else(|e| panic!("deploy/{file}: {e}"));
        assert!(
            original.contains(from),
            "deploy/{file} no longer contains {from:?}: pick another breakage"
        );
        let path = dir.path().join(format!("broken-{file}"));
        std::fs::write(&path, original.replacen(from, to, 1)).expect("the broken copy is written");
        broken.push(path);
    }
    for path in &broken {
        let verdict = validate(std::slice::from_ref(path));
        assert!(
            !verdict.accepted,
            "kubernetes-validate accepted {}:\n{}",
            file_name(path),
            verdict.output
        );
        assert!(
            verdict
                .problems
                .iter()
                .any(|line| line.contains(&file_name(path))),
            "no problem reported for {}:\n{}",
            file_name(path),
            verdict.output
        );
    }
}
