//! What the shippers share: custom labels, Kubernetes metadata, the output stream.

use super::get_str;
use crate::json::{Object, Value, update};

/// A shipper's custom fields as text labels (`labels.*` are keyword fields): strings as
/// they are, numbers as their JSON text, booleans as `True` / `False` (the spelling labels
/// have always had), other values left out.
pub(super) fn labels(fields: &mut Object, custom: Option<&Value>) {
    let Some(Value::Object(custom)) = custom else { return };
    let mut found = Object::new();
    for (k, v) in custom.iter() {
        let text = match v {
            Value::String(s) => s.to_string(),
            // A number's JSON text, as serde_json writes it (`1e16`).
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => (if *b { "True" } else { "False" }).to_owned(),
            _ => continue,
        };
        found.insert(k.clone(), Value::from(text));
    }
    if found.is_empty() {
        return;
    }
    match fields.get_mut("labels") {
        Some(Value::Object(existing)) => update(existing, found),
        // Labels that are not an object are replaced: `labels.*` are text fields.
        _ => {
            fields.insert("labels", Value::Object(found));
        }
    }
}

pub(super) fn stream(fields: &mut Object, v: Option<&Value>) {
    if let Some(Value::String(s)) = v
        && (s == "stdout" || s == "stderr")
    {
        fields.insert("stream", Value::from(s.as_str()));
    }
}

pub(super) fn kubernetes(fields: &mut Object, meta: Option<&Value>) {
    let Some(Value::Object(meta)) = meta else { return };
    for (source, target) in [
        ("pod_name", "kubernetes.pod.name"),
        ("namespace_name", "kubernetes.namespace"),
        ("container_name", "kubernetes.container.name"),
        ("host", "kubernetes.node.name"),
    ] {
        if let Some(v) = get_str(meta, source) {
            fields.insert(target, Value::from(v));
        }
    }
    if let Some(name) = meta.get("pod").and_then(Value::as_object).and_then(|p| get_str(p, "name")) {
        fields.insert("kubernetes.pod.name", Value::from(name));
    }
    if let Some(ns) = get_str(meta, "namespace") {
        fields.insert("kubernetes.namespace", Value::from(ns));
    }
}
