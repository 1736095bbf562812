//! Enums whose variants have stable snake_case names on every wire and in every store.

/// Declares a fieldless enum with a stable name per variant, and gives it `ALL`, `as_str`,
/// `Display` and a `FromStr` that refuses unknown names with a [`DomainError`] about `$field`.
///
/// [`DomainError`]: crate::DomainError
macro_rules! named_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident in $field:literal {
            $( $(#[$variant_meta:meta])* $variant:ident => $text:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $( $(#[$variant_meta])* $variant, )+
        }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stable name; never rename one, only add.
            pub fn as_str(self) -> &'static str {
                match self {
                    $( $name::$variant => $text, )+
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::DomainError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::ALL
                    .iter()
                    .copied()
                    .find(|v| v.as_str() == s)
                    .ok_or_else(|| $crate::DomainError::Invalid {
                        field: $field,
                        reason: format!("unknown {} {s:?}", $field),
                    })
            }
        }
    };
}
