//! JSON in and out: `value` (the model: objects keep their keys' order), `read` (through
//! serde_json) and `write` (our own writer), and the few object operations the stages share.

mod read;
mod value;
mod write;

pub use read::{Invalid, parse};
pub use value::{Number, Object, Str, Value};
pub use write::{Unwritable, write_any, write_document, write_str};

/// Whether a value counts as given where an envelope takes the first of several fields:
/// not null, false, zero or empty.
pub fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(items) => !items.is_empty(),
        Value::Object(members) => !members.is_empty(),
    }
}

/// The object at `key` in `obj`, made if need be: a value there that is not an object is
/// replaced (a dotted key's parent wins over a plain value of the same name).
pub fn child<'o>(obj: &'o mut Object, key: &str) -> &'o mut Object {
    // A made object gets room for a few members: a dotted parent (`log`, `event`) holds two
    // to four.
    let slot = obj.get_or_insert_with(key, || Value::Object(Object::with_capacity(4)));
    if !slot.is_object() {
        *slot = Value::Object(Object::with_capacity(4));
    }
    match slot {
        Value::Object(o) => o,
        _ => unreachable!("made an object above"),
    }
}

/// Sets each member of `other` in `obj`: a key already there keeps its position and takes
/// the new value.
pub fn update(obj: &mut Object, other: Object) {
    for (k, v) in other {
        obj.insert(k, v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dict_keeps_the_first_position_of_a_key() {
        let mut obj = Object::new();
        obj.insert("a", Value::from(1));
        obj.insert("b", Value::from(2));
        update(&mut obj, Object::from_iter([("a", Value::from(3))]));
        assert_eq!(obj.iter().next(), Some((&"a".into(), &Value::from(3))));
        child(&mut obj, "b").insert("c", Value::Null);
        assert_eq!(obj["b"], Value::from(serde_json::json!({"c": null})));
    }
}
