"""The compiled segmenter gives exactly jieba 0.42.1's tokens.

Every check is differential: the reference is ``jieba.cut`` (or a
``jieba.Tokenizer`` loaded with the same user dictionary) on the same input.
The same checks run through the pure-Python path (``JUDGEKIT_NO_NATIVE=1``),
so a build without the extension is held to the same results.
"""
from __future__ import annotations

import logging
import threading

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import jieba
import jieba.finalseg

from judgekit.text import segment as seg_mod
from judgekit.text import _cjieba_load as load

jieba.setLogLevel(logging.WARNING)

NATIVE = seg_mod._native_module() if not seg_mod._native_disabled() else None
try:  # the module itself, even when JUDGEKIT_NO_NATIVE is set for this run
    from judgekit import _cjieba as CJIEBA  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - pure-Python install
    CJIEBA = None

needs_native = pytest.mark.skipif(CJIEBA is None, reason="compiled extension judgekit._cjieba is not built")

BACKENDS = ["c", "python"]


def make_segmenter(backend: str, monkeypatch, user_dicts=(), hmm=True) -> seg_mod.JiebaSegmenter:
    if backend == "c":
        if CJIEBA is None:
            pytest.skip("compiled extension judgekit._cjieba is not built")
        monkeypatch.delenv(seg_mod.NO_NATIVE_ENV, raising=False)
    else:
        monkeypatch.setenv(seg_mod.NO_NATIVE_ENV, "1")
    s = seg_mod.JiebaSegmenter(user_dicts, hmm=hmm)
    assert s.backend == backend
    return s


@pytest.fixture(autouse=True)
def _keep_force_split():
    """jieba keeps words added with frequency 0 in a module-global set
    (finalseg.Force_Split_Words); restore it so tests stay independent."""
    saved = set(jieba.finalseg.Force_Split_Words)
    yield
    jieba.finalseg.Force_Split_Words.clear()
    jieba.finalseg.Force_Split_Words.update(saved)


# Our own edge cases (from the golden examples and the jieba semantics).
EDGE = [
    "",
    " ",
    "   ",
    "嗯",
    "我爱你",
    "哈哈哈哈哈哈哈哈",
    "。。。！",
    "...",
    "我用GPT-4写了3.5个版本的code，效果 very good!",
    "我用 GPT-4 写了三个版本的代码，效果很好！",
    "价格是3.5元。我觉得还行",
    "抱抱你🤗，一切都会好起来的😊",
    "ＯＫ，我明白了１２３",
    "他说“没事的”……",
    "第一句话。\n第二句话！",
    "Hello World",
    "a\r\nb\r\r\n\n\r",
    "\x00我们\x00",
    "\ud800孤立的代理\udfff",
    "𠀀𠀁𪚥 扩展B区的字𠮷野家",
    "7-10点，699-1号，2.v版本，1.2.3.4，a.5.6%，50%的人，C++和C#，AT&T公司",
    "B超T恤A股AA制CALL机",
    "这是一个伸手不见五指的黑夜。我叫孙悟空，我爱北京，我爱Python和C++。",
    "小明硕士毕业于中国科学院计算所，后在日本京都大学深造",
    "他来到了网易杭研大厦",
    "李小福是创新办主任也是云计算方面的专家",
    "鲁迅先生的孙女周令飞郭敬明韩寒易中天于丹",
    "\t\u3000\xa0\x1c\x1f\u2028\u2029\x85结束",
    "朝三暮四下三滥乌七八糟莫名其妙",
    "３．５％、ｘｙｚ，①②③",
    "-._%+#&",
    "我-们.的_人%+#&",
    "很" * 300,
    "我们可以一起慢慢面对这些困难，你并不孤单，" * 40,
]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("hmm", [True, False])
def test_edge_cases_equal_jieba(backend, hmm, monkeypatch):
    s = make_segmenter(backend, monkeypatch, hmm=hmm)
    for text in EDGE:
        assert s.cut(text) == jieba.lcut(text, HMM=hmm), text
    assert s.cut_many(EDGE) == [jieba.lcut(t, HMM=hmm) for t in EDGE]


# -- generated strings -------------------------------------------------------

_COMMON = "的一是不了人我在有他这中大来上国个到说们为子和你地出道也时年得就那要下以生会自着去之过家学对可她里后小么心多天而能好都然没日于起还发成事只作当想看文无开手十用主行方又如前所本见经头面公同三已老从动两长知民样现分将外但身些与高意进把法此实回二理美点月明其种声全工己话儿者向情部正名定女问力机给等几很业最间新什打便位因重被走电四第门相次东政海口使教西再平真听世气信北少关并内加化由却代军产入先山五太水万市眼体别处总才场师书比住员九笑性通目华报立马命张活难神数件安表原车白应路期叫死常提感金何更反合放做系计或司利受光王果亲界及今京务制解各任至清物台象记边共风战干接它许八特觉望直服毛林题建南度统色字请交爱让认算论百吃义科怎元社术结六功指思非流每青管夫连远资队跟带花快条院变联言权往展该领传近留红治决周保达办运武半候七必城父强步完革深区即求品士转量空甚众技轻程告江语英基派满式李息写呢识极令黄德收脸钱党倒未持取设始版双历越史商千片容研像找友孩站广改议形委早房音火际则首单据导影失拿网香似斯专石若兵弟谁校读志飞观争究包组造落视济喜离虽坏兴切胡尔言"
_WORDS = [
    "我们", "可以", "一起", "面对", "困难", "孤单", "没事", "失恋", "痛苦", "感受", "理解", "愿意",
    "GPT", "GPT-4", "C++", "C#", "AT&T", "B超", "T恤", "3.5", "50%", "1.2.3", "a.5", "2.v",
    "北京", "清华大学", "中华人民共和国", "心理咨询", "焦虑", "抑郁", "情绪",
    "\r\n", "\n", " ", "  ", "\t", "...", "……", "——", "“", "”", "，", "。", "！", "？", "～",
]
_ALPHABETS = [
    st.sampled_from(_COMMON),
    st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF),  # incl. U+9FD6..9FFF outside jieba's range
    st.characters(min_codepoint=0x3400, max_codepoint=0x4DBF),  # Extension A
    st.characters(min_codepoint=0x20000, max_codepoint=0x2A6DF),  # Extension B
    st.characters(min_codepoint=0x1F300, max_codepoint=0x1FAFF),  # emoji
    st.characters(min_codepoint=0xFF01, max_codepoint=0xFF5E),  # full-width forms
    st.sampled_from("abcxyzABCXYZ0123456789.+#&_%-"),
    st.sampled_from(" \t\n\r\x0b\x0c\x1c\x85\xa0\u3000\u2028\x00"),
    st.sampled_from("，。！？、；：“”‘’（）《》…—·~!?,;:'\"()[]{}<>/\\|@$^*=`"),
    st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF),  # lone surrogates
    st.characters(),
]


def _emission_pools() -> list[str]:
    """Han characters grouped by which HMM states can emit them (computed
    from jieba's tables): characters missing from some states make the
    Viterbi sums absorb MIN_FLOAT and tie, which exercises tie-breaking."""
    emit = jieba.finalseg.emit_P
    pools: dict[tuple, list[str]] = {}
    for cp in range(0x4E00, 0x9FD6):
        c = chr(cp)
        key = tuple(c in emit[y] for y in "BMES")
        pools.setdefault(key, []).append(c)
    # a few of each kind, every 7th so that rare and common ones both occur
    return ["".join(v[::7][:40]) for k, v in sorted(pools.items())]


EMISSION_POOLS = _emission_pools()
_EMISSION_CHARS = st.sampled_from("".join(EMISSION_POOLS))
_ALPHABETS.append(_EMISSION_CHARS)
_PIECE = st.one_of(st.sampled_from(_WORDS), *_ALPHABETS)
TEXTS = st.lists(_PIECE, max_size=60).map("".join)


@pytest.mark.parametrize("hmm", [True, False])
@needs_native
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(texts=st.lists(TEXTS, min_size=1, max_size=8))
def test_generated_strings_equal_jieba(hmm, texts):
    seg = _shared_native()
    for t in texts:
        assert seg.cut(t, hmm) == jieba.lcut(t, HMM=hmm), repr(t)
    assert seg.cut_many(texts, hmm) == [jieba.lcut(t, HMM=hmm) for t in texts]


_NATIVE_SEG = None


def _shared_native():
    global _NATIVE_SEG
    if _NATIVE_SEG is None:
        _NATIVE_SEG = load.build_native(CJIEBA)
    return _NATIVE_SEG


# -- float operations, compared bit for bit ----------------------------------------

_HAN = st.one_of(st.sampled_from(_COMMON), _EMISSION_CHARS, st.characters(min_codepoint=0x4E00, max_codepoint=0x9FD5))
_BLOCK = st.lists(st.one_of(st.sampled_from([w for w in _WORDS if w.strip() and w.isascii() or "\u4e00" <= w[0] <= "\u9fd5"]), _HAN, st.sampled_from("abcXYZ019.+#&_%-")), min_size=1, max_size=40).map("".join)


@needs_native
@settings(max_examples=300, deadline=None)
@given(text=_BLOCK)
def test_route_probabilities_equal_jieba_calc(text):
    route: dict = {}
    jieba.dt.calc(text, jieba.dt.get_DAG(text), route)
    assert _shared_native()._calc(text) == [route[i] for i in range(len(text) + 1)]


@needs_native
@settings(max_examples=500, deadline=None)
@given(run=st.lists(_HAN, min_size=1, max_size=30).map("".join))
def test_viterbi_probability_and_path_equal_finalseg(run):
    fs = jieba.finalseg
    prob, path = fs.viterbi(run, "BMES", fs.start_P, fs.trans_P, fs.emit_P)
    mine = _shared_native()._viterbi(run)
    assert mine == (prob, path)
    assert repr(mine[0]) == repr(prob)


@needs_native
def test_viterbi_ties_on_characters_without_emissions():
    # every pair and triple over the emission pools: the sums tie at
    # MIN_FLOAT scale and only the tie-breaking decides the path
    fs = jieba.finalseg
    seg = _shared_native()
    reps = [p[0] for p in EMISSION_POOLS] + [p[-1] for p in EMISSION_POOLS]
    for a in reps:
        for b in reps:
            for run in (a + b, a + b + a, b + a + a + b):
                assert seg._viterbi(run) == fs.viterbi(run, "BMES", fs.start_P, fs.trans_P, fs.emit_P), run
                for hmm in (True, False):
                    assert seg.cut(run, hmm) == jieba.lcut(run, HMM=hmm), run


# -- user dictionaries ----------------------------------------------------------

USER_DICT = (
    "\ufeff云计算 5\n"
    "创新办 3 i\n"
    "韩玉赏鉴\n"  # no frequency: suggest_freq(word, False)
    "凱特琳 nz\n"
    "台中\n"
    "八一双鹿 100\n"
    "AT&T公司 10\n"
    "心情不好 0\n"  # frequency 0: never a DAG edge, and force-split in the HMM
    "孙悟空 0\n"
    "慢慢面对\n"
    "我们 50\n"  # overwrites a dictionary word (total grows, as in jieba)
    "我们一起面对 7 v\n"
    "x 5 5\n"  # the lazy pattern: word 'x 5', freq 5
    "a b\n"  # word 'a', tag 'b'
    "\n"
    "   \n"
    "李小福 2 nr\n"
    "周令飞\n"
    "GPT-4模型\n"
    "很很很很\n"
)
USER_TEXTS = EDGE + [
    "李小福是创新办主任也是云计算方面的专家; 什么是八一双鹿",
    "例如我输入一个带“韩玉赏鉴”的标题，在自定义词库中也增加了此词为N类",
    "「台中」正確應該不會被切開。mac上可分出「石墨烯」；此時又可以分出來凱特琳了。",
    "我今天心情不好，孙悟空也心情不好，我们一起面对吧",
    "用GPT-4模型的AT&T公司",
]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("hmm", [True, False])
def test_user_dictionary_equals_jieba_load_userdict(backend, hmm, monkeypatch, tmp_path):
    path = tmp_path / "user.dict"
    path.write_bytes(USER_DICT.encode("utf-8"))
    tok = jieba.Tokenizer()
    tok.tmp_dir = str(tmp_path)
    tok.load_userdict(str(path))
    s = make_segmenter(backend, monkeypatch, [path], hmm=hmm)
    for text in USER_TEXTS:
        assert s.cut(text) == list(tok.cut(text, HMM=hmm)), text
    if backend == "c":
        native = s._native
        assert native.total == tok.total
        assert native.n_entries == len(tok.FREQ)
        for e in load.read_userdict(str(path)):
            assert native.get_freq(e.word) == tok.FREQ.get(e.word), e


@needs_native
def test_suggest_freq_matches_jieba(tmp_path):
    tok = jieba.Tokenizer()
    tok.tmp_dir = str(tmp_path)
    tok.initialize()
    native = load.build_native(CJIEBA)
    for w in ["韩玉赏鉴", "台中", "我们", "心理咨询师", "中华人民共和国万岁", "GPT-4模型", "a b", "很很很很", "🤗抱抱", "𠀀𠀁"]:
        assert load.suggest_freq(native, w) == tok.suggest_freq(w, False), w


def test_userdict_pattern_is_jiebas():
    assert load.RE_USERDICT.pattern == jieba.re_userdict.pattern
    assert load.RE_USERDICT.flags == jieba.re_userdict.flags


@pytest.mark.parametrize("backend", BACKENDS)
def test_userdict_not_utf8_names_file_and_line(backend, monkeypatch, tmp_path):
    from judgekit.errors import InputError

    path = tmp_path / "bad.dict"
    path.write_bytes("好词 3\n".encode() + b"\xff\xfe 2\n")
    with pytest.raises(InputError, match=r"line 2"):
        s = make_segmenter(backend, monkeypatch, [path])
        s.cut("好词")  # the fallback reads the dictionary on first use


# -- the loader ----------------------------------------------------------------------


@needs_native
def test_tables_and_dictionary_are_jiebas():
    jieba.dt.check_initialized()
    for mine, theirs in zip(load._hmm_tables_from_files(), (jieba.finalseg.start_P, jieba.finalseg.trans_P, jieba.finalseg.emit_P)):
        assert mine == theirs
    native = _shared_native()
    assert native.total == jieba.dt.total
    assert native.n_entries == len(jieba.dt.FREQ)
    for w in ["我们", "我", "中华人民共和国", "中华人民", "B超", "AT&T", "不存在的词语", "c++"]:
        assert native.get_freq(w) == jieba.dt.FREQ.get(w), w
    assert load.jieba_version() == jieba.__version__


def _tables():
    return jieba.finalseg.start_P, jieba.finalseg.trans_P, jieba.finalseg.emit_P


@needs_native
def test_custom_main_dictionary_parsing_matches_gen_pfdict(tmp_path):
    # duplicates, a later word over an earlier prefix, tags, trailing spaces,
    # CRLF line ends, a last line without a newline, non-Han words
    text = "我们 10\r\n我 5 r\n我们 20 n\n我们的 3\n的 7  \n人 4\nAB 9\n北京大学生 6\n北京 8\n大学生 12\n大学 11\n生 2"
    path = tmp_path / "main.dict"
    path.write_bytes(text.encode("utf-8"))
    tok = jieba.Tokenizer(str(path))
    tok.tmp_dir = str(tmp_path)
    tok.initialize()
    native = CJIEBA.Segmenter(path.read_bytes(), *_tables())
    assert native.total == tok.total
    assert native.n_entries == len(tok.FREQ)
    for w, f in tok.FREQ.items():
        assert native.get_freq(w) == f, w
    for t in ["我们的人", "北京大学生们", "AB我们ABC", "大学生的人生", "我我我们们的"] + EDGE[:20]:
        for hmm in (True, False):
            assert native.cut(t, hmm) == list(tok.cut(t, HMM=hmm)), t


@needs_native
@pytest.mark.parametrize(
    "bad",
    [b"word\n", b"\n\nword 3\n", b"word x\n", b"word -3\n", b"word +3\n", b"word 1_0\n", b"\xff\xfe 3\n", "词 ３\n".encode()],
)
def test_main_dictionary_lines_outside_the_plain_form_are_refused(bad):
    # jieba rejects the first ones; int() accepts the signed/underscore/wide
    # digit ones, which the C loader leaves to the jieba fallback
    with pytest.raises(ValueError, match="line"):
        CJIEBA.Segmenter(b"ok 1\n" + bad, *_tables())


# -- robustness -------------------------------------------------------------------


@needs_native
def test_long_text_and_gil_released_path():
    seg = _shared_native()
    text = "".join(EDGE) * 20  # > 4096 chars: cut() releases the GIL
    assert len(text) > 4096
    for hmm in (True, False):
        assert seg.cut(text, hmm) == jieba.lcut(text, HMM=hmm)


@needs_native
def test_threads_share_one_segmenter():
    seg = _shared_native()
    texts = USER_TEXTS * 30
    expected = seg.cut_many(texts, True)
    results: list = [None] * 4
    errors: list = []

    def work(i):
        try:
            results[i] = seg.cut_many(texts, True)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert all(r == expected for r in results)


@needs_native
def test_bad_arguments_raise():
    seg = _shared_native()
    with pytest.raises(TypeError, match="item 1"):
        seg.cut_many(["好", b"bytes"], True)
    with pytest.raises(TypeError):
        seg.cut(None, True)
    assert seg.cut_many(iter(["我们", "他们"]), False) == [["我们"], ["他们"]]
    assert seg.cut_many([], True) == []


@pytest.mark.parametrize("backend", BACKENDS)
def test_signature_and_description_name_the_backend(backend, monkeypatch):
    s = make_segmenter(backend, monkeypatch)
    sig = s.signature()
    assert sig.startswith(f"jieba-{jieba.__version__}+dict.")
    assert sig.endswith("+hmm.on+seg." + ("c" if backend == "c" else "py"))
    desc = seg_mod.backend_description()
    assert ("compiled jieba-exact C extension" in desc) == (backend == "c")
    # get_segmenter keys its cache on the switch, so toggling it takes effect
    assert seg_mod.get_segmenter().backend == backend


@pytest.mark.parametrize("backend", BACKENDS)
def test_cli_version_prints_the_active_path(backend, monkeypatch, capsys):
    from judgekit.cli import main

    make_segmenter(backend, monkeypatch)
    assert main(["--version"]) == 0
    out = capsys.readouterr().out
    assert ("compiled jieba-exact C extension" in out) == (backend == "c")
    assert "segmenter:" in out
