// TypeDoc plugin (typedoc.json "plugin"): a resource class declares each output as `declare readonly x: pulumi.Output<T>`
// and the provider file documents it once, on `<Name>Outputs` (the plain values kept in state) or, for an argument
// echoed as an output, on `<Name>Args`. The reference shows that comment on the class's property too, so a user
// reading `KmsKey.keyVersion` sees what it is. Likewise a field of `<Name>Outputs` that keeps an argument as given
// shows the argument's comment.
import { Converter, ReflectionKind } from "typedoc";

export function load(app) {
    app.converter.on(Converter.EVENT_RESOLVE_BEGIN, (context) => {
        const copy = (target, sourceNames) => {
            const sources = sourceNames.map((n) => target.parent?.getChildByName?.(n)).filter(Boolean);
            for (const prop of target.children ?? []) {
                if (prop.kind !== ReflectionKind.Property || prop.inheritedFrom || prop.comment) continue;
                const documented = sources.map((s) => s.getChildByName(prop.name)).find((p) => p?.comment);
                if (documented) prop.comment = documented.comment.clone();
            }
        };
        for (const iface of context.project.getReflectionsByKind(ReflectionKind.Interface)) {
            if (iface.name.endsWith("Outputs")) copy(iface, [`${iface.name.slice(0, -"Outputs".length)}Args`]);
        }
        for (const cls of context.project.getReflectionsByKind(ReflectionKind.Class)) copy(cls, [`${cls.name}Outputs`, `${cls.name}Args`]);
    });
}
