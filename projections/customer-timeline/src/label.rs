//! The wire name of a closed vocabulary's variant (`FOLLOW_UP_NEEDED`, `WECHAT`, `RESCUE_24H`),
//! for the short titles an agent reads.
//!
//! The names are read through the enums' own `Serialize` implementations rather than typed
//! again here, so a title always spells a value exactly as the API and the event JSON do.

use std::fmt;

use serde::Serialize;
use serde::ser::{self, Impossible};

/// The serialised name of a unit variant; `"?"` for a value that is not one (never the case
/// for the vocabularies titles use, which are all plain enums).
pub fn label<T: Serialize>(value: &T) -> &'static str {
    value.serialize(VariantName).unwrap_or("?")
}

/// A serializer that accepts only unit variants and returns their name.
struct VariantName;

#[derive(Debug)]
struct NotAUnitVariant;

impl fmt::Display for NotAUnitVariant {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("not a unit variant")
    }
}

impl std::error::Error for NotAUnitVariant {}

impl ser::Error for NotAUnitVariant {
    fn custom<T: fmt::Display>(_message: T) -> Self {
        Self
    }
}

/// Refuses the serializer methods for every shape but a unit variant.
macro_rules! refuse {
    ($($method:ident($($argument:ty),*)),+ $(,)?) => {
        $(
            fn $method(self, $(_: $argument),*) -> Result<Self::Ok, Self::Error> {
                Err(NotAUnitVariant)
            }
        )+
    };
}

impl ser::Serializer for VariantName {
    type Ok = &'static str;
    type Error = NotAUnitVariant;
    type SerializeSeq = Impossible<Self::Ok, Self::Error>;
    type SerializeTuple = Impossible<Self::Ok, Self::Error>;
    type SerializeTupleStruct = Impossible<Self::Ok, Self::Error>;
    type SerializeTupleVariant = Impossible<Self::Ok, Self::Error>;
    type SerializeMap = Impossible<Self::Ok, Self::Error>;
    type SerializeStruct = Impossible<Self::Ok, Self::Error>;
    type SerializeStructVariant = Impossible<Self::Ok, Self::Error>;

    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<Self::Ok, Self::Error> {
        Ok(variant)
    }

    refuse!(
        serialize_bool(bool),
        serialize_i8(i8),
        serialize_i16(i16),
        serialize_i32(i32),
        serialize_i64(i64),
        serialize_u8(u8),
        serialize_u16(u16),
        serialize_u32(u32),
        serialize_u64(u64),
        serialize_f32(f32),
        serialize_f64(f64),
        serialize_char(char),
        serialize_str(&str),
        serialize_bytes(&[u8]),
        serialize_none(),
        serialize_unit(),
        serialize_unit_struct(&'static str),
    );

    fn serialize_some<T: Serialize + ?Sized>(self, _value: &T) -> Result<Self::Ok, Self::Error> {
        Err(NotAUnitVariant)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _value: &T,
    ) -> Result<Self::Ok, Self::Error> {
        Err(NotAUnitVariant)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _value: &T,
    ) -> Result<Self::Ok, Self::Error> {
        Err(NotAUnitVariant)
    }

    fn serialize_seq(self, _length: Option<usize>) -> Result<Self::SerializeSeq, Self::Error> {
        Err(NotAUnitVariant)
    }

    fn serialize_tuple(self, _length: usize) -> Result<Self::SerializeTuple, Self::Error> {
        Err(NotAUnitVariant)
    }

    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        _length: usize,
    ) -> Result<Self::SerializeTupleStruct, Self::Error> {
        Err(NotAUnitVariant)
    }

    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _length: usize,
    ) -> Result<Self::SerializeTupleVariant, Self::Error> {
        Err(NotAUnitVariant)
    }

    fn serialize_map(self, _length: Option<usize>) -> Result<Self::SerializeMap, Self::Error> {
        Err(NotAUnitVariant)
    }

    fn serialize_struct(
        self,
        _name: &'static str,
        _length: usize,
    ) -> Result<Self::SerializeStruct, Self::Error> {
        Err(NotAUnitVariant)
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _length: usize,
    ) -> Result<Self::SerializeStructVariant, Self::Error> {
        Err(NotAUnitVariant)
    }
}

#[cfg(test)]
mod tests {
    use ledger_domain::kinds::{ContactOutcome, ServiceCaseKind};
    use ledger_domain::values::{Channel, Topic};

    use super::label;

    #[test]
    fn labels_are_the_wire_names() {
        assert_eq!(label(&Channel::WeChat), "WECHAT");
        assert_eq!(
            label(&Channel::SelfServiceTerminal),
            "SELF_SERVICE_TERMINAL"
        );
        assert_eq!(label(&Topic::ClaimReport), "CLAIM_REPORT");
        assert_eq!(label(&ContactOutcome::FollowUpNeeded), "FOLLOW_UP_NEEDED");
        assert_eq!(label(&ServiceCaseKind::Rescue24h), "RESCUE_24H");
        assert_eq!(label(&"not an enum"), "?");
    }
}
