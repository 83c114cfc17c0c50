//! JSON objects written field by field: one definition of an object's
//! fields and their order, whether the object is built as a
//! [`serde_json::Value`] (a Kafka message, a published row) or written
//! straight to text (a report of many months, megabytes each, without a
//! tree of maps built and dropped for every row).

use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::{Map, Value};
use std::fmt::Display;

/// Fields of a JSON object, written in order into a map being serialized.
pub trait Fields {
    /// Writes the fields into `map`.
    fn write<M: SerializeMap>(&self, map: &mut M) -> Result<(), M::Error>;
}

/// Fields behind a reference.
impl<T: Fields> Fields for &T {
    fn write<M: SerializeMap>(&self, map: &mut M) -> Result<(), M::Error> {
        (**self).write(map)
    }
}

/// Two sets of fields, the first's before the second's.
impl<A: Fields, B: Fields> Fields for (A, B) {
    fn write<M: SerializeMap>(&self, map: &mut M) -> Result<(), M::Error> {
        self.0.write(map)?;
        self.1.write(map)
    }
}

/// The fields made of every item of a slice, in order (see [`each`]).
pub struct Each<'a, T, F>(&'a [T], F);

/// The fields `fields` makes of every item of `items`, in order: each item
/// is read when written, and what `fields` makes may borrow it.
pub fn each<'a, T, F, O>(items: &'a [T], fields: F) -> Each<'a, T, F>
where
    F: Fn(&'a T) -> O,
    O: Fields,
{
    Each(items, fields)
}

impl<'a, T, F, O> Fields for Each<'a, T, F>
where
    F: Fn(&'a T) -> O,
    O: Fields,
{
    fn write<M: SerializeMap>(&self, map: &mut M) -> Result<(), M::Error> {
        for item in self.0 {
            (self.1)(item).write(map)?;
        }
        Ok(())
    }
}

/// [`Fields`] serialized as one JSON object.
pub struct Object<F>(pub F);

impl<F: Fields> Serialize for Object<F> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        self.0.write(&mut map)?;
        map.end()
    }
}

/// One field: a name and what serializes its value.
pub struct Field<'a, T>(pub &'a str, pub T);

impl<T: Serialize> Fields for Field<'_, T> {
    fn write<M: SerializeMap>(&self, map: &mut M) -> Result<(), M::Error> {
        map.serialize_entry(self.0, &self.1)
    }
}

/// A value written as the text its [`Display`] gives (a month, a year),
/// without a `String` made for it first.
pub struct Text<T>(pub T);

impl<T: Display> Serialize for Text<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&self.0)
    }
}

/// Items of a slice serialized as a JSON array (see [`array()`]).
pub struct Array<'a, T, F>(&'a [T], F);

/// `items` as a JSON array, each serialized as `item` makes it when
/// written; what `item` makes may borrow the item.
pub fn array<'a, T, F, O>(items: &'a [T], item: F) -> Array<'a, T, F>
where
    F: Fn(&'a T) -> O,
    O: Serialize,
{
    Array(items, item)
}

impl<'a, T, F, O> Serialize for Array<'a, T, F>
where
    F: Fn(&'a T) -> O,
    O: Serialize,
{
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.0.len()))?;
        for item in self.0 {
            seq.serialize_element(&(self.1)(item))?;
        }
        seq.end()
    }
}

/// The fields as a [`Value`] object.
pub fn to_value<F: Fields>(fields: F) -> Value {
    // Names are strings and values are serializable into a `Value`
    // (numbers already finite `Value`s): the conversion does not fail.
    serde_json::to_value(Object(fields)).unwrap_or(Value::Null)
}

/// Appends the fields to `object`, in order.
pub fn extend<F: Fields>(object: &mut Map<String, Value>, fields: F) {
    if let Value::Object(more) = to_value(fields) {
        object.extend(more);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Point {
        month: &'static str,
        value: Option<f64>,
    }

    impl Fields for Point {
        fn write<M: SerializeMap>(&self, map: &mut M) -> Result<(), M::Error> {
            map.serialize_entry("month", self.month)?;
            map.serialize_entry("value", &self.value)
        }
    }

    #[test]
    fn written_and_built_objects_agree_with_json_written_by_hand() {
        let points = [
            Point {
                month: "2020-01",
                value: Some(0.25),
            },
            Point {
                month: "2020-02",
                value: None,
            },
        ];
        let fields = (
            Field("name", Text(2020)),
            Field("trend", array(&points, Object)),
        );
        let expected = r#"{"name":"2020","trend":[{"month":"2020-01","value":0.25},{"month":"2020-02","value":null}]}"#;
        assert_eq!(serde_json::to_string(&Object(&fields)).unwrap(), expected);
        assert_eq!(to_value(&fields).to_string(), expected);
        let mut object = Map::new();
        object.insert("first".into(), Value::from(1));
        extend(&mut object, &fields);
        assert_eq!(
            Value::Object(object).to_string(),
            format!(r#"{{"first":1,{}"#, &expected[1..])
        );
    }
}
