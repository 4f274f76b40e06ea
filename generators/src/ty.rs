//! The generators' type model: every synchronous component value type, named and anonymous, with a size/depth
//! budget, WIT rendering, and the canonical-ABI layout (an independent second implementation of the spec's
//! `elem_size`, `alignment` and `flatten_type`, used by the guest code generators and to cross-check the runtime).

use arbitrary::{Result, Unstructured};
use serde::{Deserialize, Serialize};

/// A value type. Named types (records, variants, enums, flags, aliases) and resources live in a [`TypeSet`]
/// and are referenced by index.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[allow(missing_docs)]
pub enum Ty {
    Bool,
    S8,
    U8,
    S16,
    U16,
    S32,
    U32,
    S64,
    U64,
    F32,
    F64,
    Char,
    String,
    List(Box<Ty>),
    Tuple(Vec<Ty>),
    Option(Box<Ty>),
    Result(Option<Box<Ty>>, Option<Box<Ty>>),
    /// A named type: index into [`TypeSet::defs`].
    Named(usize),
    /// `own<R>`: index into [`TypeSet::resources`].
    Own(usize),
    /// `borrow<R>`.
    Borrow(usize),
}

/// A named type definition.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[allow(missing_docs)]
pub enum Def {
    Record(Vec<(String, Ty)>),
    Variant(Vec<(String, Option<Ty>)>),
    Enum(Vec<String>),
    Flags(Vec<String>),
    /// `type name = T` for an anonymous type.
    Alias(Ty),
}

/// A resource type used by a case.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceDecl {
    /// Its WIT name.
    pub name: String,
    /// Whether the host implements it (otherwise the guest defines it).
    pub host: bool,
}

/// The named types and resources of a case. Definitions only refer to earlier ones, so they can be emitted in
/// order.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TypeSet {
    /// Named types, in dependency order.
    pub defs: Vec<(String, Def)>,
    /// Resource types.
    pub resources: Vec<ResourceDecl>,
}

/// Budgets for type generation.
#[derive(Clone, Debug)]
pub struct TypeConfig {
    /// Maximum nesting depth.
    pub max_depth: u32,
    /// Total number of type nodes.
    pub fuel: u32,
    /// Maximum record fields / tuple elements / variant cases (enums may have up to 257 cases regardless).
    pub max_parts: usize,
    /// Whether `own`/`borrow` may appear.
    pub resources: bool,
}

impl Default for TypeConfig {
    fn default() -> Self {
        TypeConfig { max_depth: 5, fuel: 40, max_parts: 12, resources: false }
    }
}

/// Primitive types, in a fixed order.
pub const PRIMITIVES: [Ty; 13] = [
    Ty::Bool,
    Ty::S8,
    Ty::U8,
    Ty::S16,
    Ty::U16,
    Ty::S32,
    Ty::U32,
    Ty::S64,
    Ty::U64,
    Ty::F32,
    Ty::F64,
    Ty::Char,
    Ty::String,
];

/// Generates types into a [`TypeSet`].
pub struct TypeGen<'a> {
    /// The set definitions go into.
    pub set: &'a mut TypeSet,
    /// The budget.
    pub config: TypeConfig,
    fuel: u32,
}

impl<'a> TypeGen<'a> {
    /// A generator adding to `set`.
    pub fn new(set: &'a mut TypeSet, config: TypeConfig) -> Self {
        let fuel = config.fuel;
        TypeGen { set, config, fuel }
    }

    /// A random type.
    pub fn ty(&mut self, u: &mut Unstructured<'_>) -> Result<Ty> {
        self.ty_at(u, self.config.max_depth)
    }

    fn ty_at(&mut self, u: &mut Unstructured<'_>, depth: u32) -> Result<Ty> {
        if depth == 0 || self.fuel == 0 || u.ratio(2, 5)? {
            return self.leaf(u);
        }
        self.fuel -= 1;
        let n_parts = |u: &mut Unstructured<'_>, max: usize| -> Result<usize> { u.int_in_range(1..=max.max(1)) };
        Ok(match u.int_in_range(0..=10)? {
            0 => Ty::List(Box::new(self.ty_at(u, depth - 1)?)),
            1 => {
                let n = n_parts(u, self.config.max_parts.min(6))?;
                Ty::Tuple((0..n).map(|_| self.ty_at(u, depth - 1)).collect::<Result<_>>()?)
            }
            2 => Ty::Option(Box::new(self.ty_at(u, depth - 1)?)),
            3 => {
                let ok = self.maybe(u, depth)?;
                let err = self.maybe(u, depth)?;
                Ty::Result(ok.map(Box::new), err.map(Box::new))
            }
            4 | 5 => {
                let n = n_parts(u, self.config.max_parts)?;
                let fields = (0..n).map(|i| Ok((format!("f{i}"), self.ty_at(u, depth - 1)?))).collect::<Result<_>>()?;
                self.named(Def::Record(fields))
            }
            6 | 7 => {
                let cases = self.variant_cases(u, depth)?;
                self.named(Def::Variant(cases))
            }
            8 => {
                // Mostly small enums, sometimes around the 256/257 boundary of the 1-byte discriminant.
                let n = match u.int_in_range(0..=9)? {
                    0 => u.int_in_range(250..=257)?,
                    _ => u.int_in_range(1..=12)?,
                };
                self.named(Def::Enum((0..n).map(|i| format!("c{i}")).collect()))
            }
            9 => {
                // 1..=32 labels; the size boundaries 8/9, 16/17 and 32 are favoured.
                let n = *u.choose(&[1, 2, 7, 8, 9, 15, 16, 17, 24, 31, 32])?;
                self.named(Def::Flags((0..n).map(|i| format!("g{i}")).collect()))
            }
            _ => {
                let inner = self.ty_at(u, depth - 1)?;
                self.named(Def::Alias(inner))
            }
        })
    }

    /// Variant cases, biased towards payload shapes whose flattenings must be joined (f32/s64, f64/u32, …).
    fn variant_cases(&mut self, u: &mut Unstructured<'_>, depth: u32) -> Result<Vec<(String, Option<Ty>)>> {
        let n = u.int_in_range(1..=self.config.max_parts.max(1))?;
        let mut cases = Vec::with_capacity(n);
        if u.ratio(1, 3)? {
            let pair = u
                .choose(&[
                    (Ty::F32, Ty::S64),
                    (Ty::F64, Ty::U32),
                    (Ty::F32, Ty::U32),
                    (Ty::F32, Ty::F64),
                    (Ty::U8, Ty::F64),
                    (Ty::String, Ty::F32),
                ])?
                .clone();
            cases.push(("a".to_owned(), Some(pair.0)));
            cases.push(("b".to_owned(), Some(pair.1)));
        }
        while cases.len() < n {
            let payload = self.maybe(u, depth)?;
            cases.push((format!("v{}", cases.len()), payload));
        }
        Ok(cases)
    }

    fn maybe(&mut self, u: &mut Unstructured<'_>, depth: u32) -> Result<Option<Ty>> {
        if u.arbitrary()? {
            Ok(Some(self.ty_at(u, depth.saturating_sub(1))?))
        } else {
            Ok(None)
        }
    }

    fn leaf(&mut self, u: &mut Unstructured<'_>) -> Result<Ty> {
        if self.config.resources && !self.set.resources.is_empty() && u.ratio(1, 8)? {
            let r = u.choose_index(self.set.resources.len())?;
            return Ok(Ty::Own(r));
        }
        Ok(u.choose(&PRIMITIVES)?.clone())
    }

    fn named(&mut self, def: Def) -> Ty {
        let i = self.set.defs.len();
        self.set.defs.push((format!("t{i}"), def));
        Ty::Named(i)
    }
}

/// The canonical-ABI layout of a type: `elem_size`, `alignment`, and `flatten_type` (`None` if more than 16
/// core values).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layout {
    /// Size in bytes.
    pub size: u32,
    /// Alignment in bytes.
    pub align: u32,
    /// Flat core types, if at most [`MAX_FLAT`].
    pub flat: Option<Vec<Flat>>,
}

/// A flat core type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub enum Flat {
    I32,
    I64,
    F32,
    F64,
}

/// `MAX_FLAT_PARAMS`.
pub const MAX_FLAT: usize = 16;

fn align_to(x: u32, a: u32) -> u32 {
    x.div_ceil(a) * a
}

fn join(a: Flat, b: Flat) -> Flat {
    match (a, b) {
        _ if a == b => a,
        (Flat::I32, Flat::F32) | (Flat::F32, Flat::I32) => Flat::I32,
        _ => Flat::I64,
    }
}

/// The discriminant size of a variant with `n` cases.
pub fn disc_size(n: usize) -> u32 {
    if n <= 256 {
        1
    } else if n <= 65536 {
        2
    } else {
        4
    }
}

impl TypeSet {
    /// The layout of a type.
    pub fn layout(&self, ty: &Ty) -> Layout {
        let scalar = |n: u32, f: Flat| Layout { size: n, align: n, flat: Some(vec![f]) };
        match ty {
            Ty::Bool | Ty::S8 | Ty::U8 => scalar(1, Flat::I32),
            Ty::S16 | Ty::U16 => scalar(2, Flat::I32),
            Ty::S32 | Ty::U32 | Ty::Char | Ty::Own(_) | Ty::Borrow(_) => scalar(4, Flat::I32),
            Ty::S64 | Ty::U64 => scalar(8, Flat::I64),
            Ty::F32 => scalar(4, Flat::F32),
            Ty::F64 => scalar(8, Flat::F64),
            Ty::String | Ty::List(_) => Layout { size: 8, align: 4, flat: Some(vec![Flat::I32, Flat::I32]) },
            Ty::Tuple(ts) => self.record_layout(ts.iter()).0,
            Ty::Option(t) => self.variant_layout(&[None, Some(t.as_ref())]).0,
            Ty::Result(ok, err) => self.variant_layout(&[ok.as_deref(), err.as_deref()]).0,
            Ty::Named(i) => match &self.defs[*i].1 {
                Def::Record(fs) => self.record_layout(fs.iter().map(|(_, t)| t)).0,
                Def::Variant(cs) => {
                    let cases: Vec<Option<&Ty>> = cs.iter().map(|(_, t)| t.as_ref()).collect();
                    self.variant_layout(&cases).0
                }
                Def::Enum(cs) => self.variant_layout(&vec![None; cs.len()]).0,
                Def::Flags(ls) => {
                    let n = if ls.len() <= 8 {
                        1
                    } else if ls.len() <= 16 {
                        2
                    } else {
                        4
                    };
                    Layout { size: n, align: n, flat: Some(vec![Flat::I32]) }
                }
                Def::Alias(t) => self.layout(t),
            },
        }
    }

    /// Layout of fields in sequence and their offsets.
    pub fn record_layout<'t>(&self, fields: impl Iterator<Item = &'t Ty>) -> (Layout, Vec<u32>) {
        let (mut size, mut align, mut flat) = (0u32, 1u32, Some(Vec::new()));
        let mut offsets = Vec::new();
        for f in fields {
            let l = self.layout(f);
            size = align_to(size, l.align);
            offsets.push(size);
            size += l.size;
            align = align.max(l.align);
            flat = match (flat, l.flat) {
                (Some(mut a), Some(b)) if a.len() + b.len() <= MAX_FLAT => {
                    a.extend(b);
                    Some(a)
                }
                _ => None,
            };
        }
        (Layout { size: align_to(size, align), align, flat }, offsets)
    }

    /// Layout of a variant with these case payloads, and the payload offset.
    pub fn variant_layout(&self, cases: &[Option<&Ty>]) -> (Layout, u32) {
        let disc = disc_size(cases.len());
        let (mut max_size, mut max_align) = (0, 1);
        let mut payload: Option<Vec<Flat>> = Some(Vec::new());
        for c in cases.iter().flatten() {
            let l = self.layout(c);
            max_size = max_size.max(l.size);
            max_align = max_align.max(l.align);
            payload = match (payload, l.flat) {
                (Some(mut p), Some(f)) => {
                    for (i, t) in f.into_iter().enumerate() {
                        if i < p.len() {
                            p[i] = join(p[i], t);
                        } else {
                            p.push(t);
                        }
                    }
                    (p.len() < MAX_FLAT).then_some(p)
                }
                _ => None,
            };
        }
        let off = align_to(disc, max_align);
        let align = disc.max(max_align);
        let flat = payload.map(|p| {
            let mut f = vec![Flat::I32];
            f.extend(p);
            f
        });
        (Layout { size: align_to(off + max_size, align), align, flat }, off)
    }

    /// The definition a type names, following aliases; `None` for anonymous and primitive types.
    pub fn resolve<'t>(&'t self, ty: &'t Ty) -> &'t Ty {
        match ty {
            Ty::Named(i) => match &self.defs[*i].1 {
                Def::Alias(t) => self.resolve(t),
                _ => ty,
            },
            _ => ty,
        }
    }

    /// Checks what every function over the set's types relies on (and what a hand-built set may break):
    /// definitions refer only to earlier definitions (no cycles), every index names a definition or resource,
    /// enums and variants have cases and flags 1 to 32 labels. Generated sets always pass.
    pub fn well_formed(&self) -> std::result::Result<(), String> {
        for (i, (name, def)) in self.defs.iter().enumerate() {
            let refs = |t: &Ty| self.refers_within(t, i).map_err(|e| format!("type `{name}`: {e}"));
            match def {
                Def::Record(fs) => fs.iter().try_for_each(|(_, t)| refs(t))?,
                Def::Variant(cs) if cs.is_empty() => return Err(format!("variant `{name}` has no cases")),
                Def::Variant(cs) => cs.iter().filter_map(|(_, t)| t.as_ref()).try_for_each(refs)?,
                Def::Enum(cs) if cs.is_empty() => return Err(format!("enum `{name}` has no cases")),
                Def::Flags(ls) if ls.is_empty() || ls.len() > 32 => {
                    return Err(format!("flags `{name}` has {} labels", ls.len()))
                }
                Def::Enum(_) | Def::Flags(_) => {}
                Def::Alias(t) => refs(t)?,
            }
        }
        Ok(())
    }

    /// Checks that `ty` is a type of the set: [`TypeSet::well_formed`], and its indices are in range.
    pub fn well_formed_ty(&self, ty: &Ty) -> std::result::Result<(), String> {
        self.well_formed()?;
        self.refers_within(ty, self.defs.len())
    }

    /// Whether every definition `ty` names is one of the first `n`, and every resource exists.
    fn refers_within(&self, ty: &Ty, n: usize) -> std::result::Result<(), String> {
        match ty {
            Ty::List(t) | Ty::Option(t) => self.refers_within(t, n),
            Ty::Tuple(ts) => ts.iter().try_for_each(|t| self.refers_within(t, n)),
            Ty::Result(o, e) => o.iter().chain(e.iter()).try_for_each(|t| self.refers_within(t, n)),
            Ty::Named(i) if *i >= n => Err(format!("refers to type {i}, which is not defined before it")),
            Ty::Own(r) | Ty::Borrow(r) if *r >= self.resources.len() => Err(format!("refers to resource {r}")),
            _ => Ok(()),
        }
    }

    /// Whether a type contains a borrow.
    pub fn contains_borrow(&self, ty: &Ty) -> bool {
        self.any(ty, &|t| matches!(t, Ty::Borrow(_)))
    }

    /// Whether a type contains `own` or `borrow`.
    pub fn contains_resource(&self, ty: &Ty) -> bool {
        self.any(ty, &|t| matches!(t, Ty::Borrow(_) | Ty::Own(_)))
    }

    fn any(&self, ty: &Ty, p: &dyn Fn(&Ty) -> bool) -> bool {
        if p(ty) {
            return true;
        }
        match ty {
            Ty::List(t) | Ty::Option(t) => self.any(t, p),
            Ty::Tuple(ts) => ts.iter().any(|t| self.any(t, p)),
            Ty::Result(o, e) => {
                o.as_deref().is_some_and(|t| self.any(t, p)) || e.as_deref().is_some_and(|t| self.any(t, p))
            }
            Ty::Named(i) => match &self.defs[*i].1 {
                Def::Record(fs) => fs.iter().any(|(_, t)| self.any(t, p)),
                Def::Variant(cs) => cs.iter().any(|(_, t)| t.as_ref().is_some_and(|t| self.any(t, p))),
                Def::Alias(t) => self.any(t, p),
                Def::Enum(_) | Def::Flags(_) => false,
            },
            _ => false,
        }
    }

    /// The WIT spelling of a type.
    pub fn wit(&self, ty: &Ty) -> String {
        match ty {
            Ty::Bool => "bool".into(),
            Ty::S8 => "s8".into(),
            Ty::U8 => "u8".into(),
            Ty::S16 => "s16".into(),
            Ty::U16 => "u16".into(),
            Ty::S32 => "s32".into(),
            Ty::U32 => "u32".into(),
            Ty::S64 => "s64".into(),
            Ty::U64 => "u64".into(),
            Ty::F32 => "f32".into(),
            Ty::F64 => "f64".into(),
            Ty::Char => "char".into(),
            Ty::String => "string".into(),
            Ty::List(t) => format!("list<{}>", self.wit(t)),
            Ty::Tuple(ts) => format!("tuple<{}>", ts.iter().map(|t| self.wit(t)).collect::<Vec<_>>().join(", ")),
            Ty::Option(t) => format!("option<{}>", self.wit(t)),
            Ty::Result(None, None) => "result".into(),
            Ty::Result(Some(o), None) => format!("result<{}>", self.wit(o)),
            Ty::Result(None, Some(e)) => format!("result<_, {}>", self.wit(e)),
            Ty::Result(Some(o), Some(e)) => format!("result<{}, {}>", self.wit(o), self.wit(e)),
            Ty::Named(i) => self.defs[*i].0.clone(),
            Ty::Own(r) => self.resources[*r].name.clone(),
            Ty::Borrow(r) => format!("borrow<{}>", self.resources[*r].name),
        }
    }

    /// WIT definitions of every named type and resource.
    pub fn wit_defs(&self) -> String {
        let mut s = String::new();
        for r in &self.resources {
            s.push_str(&format!(
                "  resource {}; // implemented by the {}\n",
                r.name,
                if r.host { "host" } else { "guest" }
            ));
        }
        for (name, def) in &self.defs {
            match def {
                Def::Record(fs) => {
                    let fs: Vec<String> = fs.iter().map(|(n, t)| format!("{n}: {}", self.wit(t))).collect();
                    s.push_str(&format!("  record {name} {{ {} }}\n", fs.join(", ")));
                }
                Def::Variant(cs) => {
                    let cs: Vec<String> = cs
                        .iter()
                        .map(|(n, t)| match t {
                            Some(t) => format!("{n}({})", self.wit(t)),
                            None => n.clone(),
                        })
                        .collect();
                    s.push_str(&format!("  variant {name} {{ {} }}\n", cs.join(", ")));
                }
                Def::Enum(cs) => s.push_str(&format!("  enum {name} {{ {} }}\n", cs.join(", "))),
                Def::Flags(ls) => s.push_str(&format!("  flags {name} {{ {} }}\n", ls.join(", "))),
                Def::Alias(t) => s.push_str(&format!("  type {name} = {};\n", self.wit(t))),
            }
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_match_the_spec() {
        let mut set = TypeSet::default();
        set.defs
            .push(("r".into(), Def::Record(vec![("a".into(), Ty::U8), ("b".into(), Ty::U64), ("c".into(), Ty::U16)])));
        let l = set.layout(&Ty::Named(0));
        assert_eq!((l.size, l.align), (24, 8));
        set.defs.push(("v".into(), Def::Variant(vec![("a".into(), Some(Ty::F32)), ("b".into(), Some(Ty::S64))])));
        assert_eq!(set.layout(&Ty::Named(1)).flat, Some(vec![Flat::I32, Flat::I64]));
        set.defs.push(("e".into(), Def::Enum((0..257).map(|i| format!("c{i}")).collect())));
        assert_eq!(set.layout(&Ty::Named(2)).size, 2);
        assert_eq!(set.layout(&Ty::Option(Box::new(Ty::F32))).flat, Some(vec![Flat::I32, Flat::F32]));
    }

    #[test]
    fn generated_types_respect_the_budget() {
        let bytes = crate::rng::seeded_bytes(3, 4096);
        let mut u = Unstructured::new(&bytes);
        let mut set = TypeSet::default();
        let mut g = TypeGen::new(&mut set, TypeConfig { fuel: 10, ..TypeConfig::default() });
        for _ in 0..20 {
            g.ty(&mut u).unwrap();
        }
        for (_, d) in &set.defs {
            if let Def::Flags(ls) = d {
                assert!((1..=32).contains(&ls.len()));
            }
        }
    }
}
