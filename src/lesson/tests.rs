use super::*;

const GOOD: &str = r#"[lesson]
title = "A test lesson"
preset = "oscillation"
seeds = [0, 1, 2]
steps = 600

[[cue]]
step = 0
caption = "JS is {js_grid} now."
layers = "real,fake"

[[cue]]
step = 200
set = ["schedule.mode=alternating"]
pause = true

[[cue.promise]]
fraction = 0.5
metric = "js_grid"
at_least = 0.0

[[cue]]
step = 400
set = ["reg.r1=1.0"]
caption = "R1 on."
plots = ""
"#;

fn err(text: &str) -> String {
    Lesson::parse("t", text).unwrap_err().to_string()
}

#[test]
fn a_good_lesson_loads_whole() {
    let l = Lesson::parse("t", GOOD).unwrap();
    assert_eq!(l.cues.len(), 3);
    assert_eq!((l.cues[0].line, l.cues[1].line, l.cues[2].line), (7, 12, 22));
    // The promise was completed from its segment: from cue 1 to cue 2, the lesson's seeds.
    let p = &l.cues[1].promise[0];
    assert_eq!((p.from_step, p.steps, p.seeds.clone()), (Some(200), 400, vec![0, 1, 2]));
    assert_eq!((l.cue_at(0), l.cue_at(199), l.cue_at(200), l.cue_at(599)), (Some(0), Some(0), Some(1), Some(2)));
    // The update that led to step 200 ran under cue 0; the one to 201 under cue 1.
    assert_eq!((l.segment_of(0), l.segment_of(200), l.segment_of(201)), (Some(0), Some(0), Some(1)));
    assert_eq!(l.caption_at(300, None).unwrap(), "JS is … now.");
    assert_eq!(l.caption_at(450, None).unwrap(), "R1 on.");
    assert_eq!((l.layers_at(450), l.plots_at(399), l.plots_at(400)), (Some("real,fake"), None, Some("")));
    let m = Metrics { js_grid: 0.4567, ..Default::default() };
    assert_eq!(l.caption_at(10, Some(&m)).unwrap(), "JS is 0.46 now.");
    let start = l.config_with_seed(7);
    let at = l.config_at(&start, 400);
    assert_eq!((at.train.seed, at.reg.r1, at.schedule.mode), (7, 1.0, crate::config::ScheduleMode::Alternating));
    assert_eq!(l.config_at(&start, 399).reg.r1, start.reg.r1);
}

#[test]
fn bad_lessons_name_the_line_and_the_key() {
    // A key that needs new networks.
    let e = err(&GOOD.replace("reg.r1=1.0", "generator.width=64"));
    assert!(e.contains("line 24") && e.contains("generator.width=64") && e.contains("new networks"), "{e}");
    // An unknown key, a bad value.
    let e = err(&GOOD.replace("reg.r1=1.0", "reg.r9=1.0"));
    assert!(e.contains("line 24") && e.contains("reg.r9"), "{e}");
    let e = err(&GOOD.replace("schedule.mode=alternating", "schedule.mode=sideways"));
    assert!(e.contains("line 14") && e.contains("sideways"), "{e}");
    // Cues out of order, off the evaluation grid, past the end.
    let e = err(&GOOD.replace("step = 400", "step = 100"));
    assert!(e.contains("line 22") && e.contains("step order"), "{e}");
    let e = err(&GOOD.replace("step = 400", "step = 450"));
    assert!(e.contains("eval_every"), "{e}");
    let e = err(&GOOD.replace("step = 400", "step = 700"));
    assert!(e.contains("past the lesson's end"), "{e}");
    // An unknown field, layer, caption metric; a promise outside its segment.
    let e = err(&GOOD.replace("pause = true", "pasue = true"));
    assert!(e.contains("line 15") && e.contains("pasue"), "{e}");
    let e = err(&GOOD.replace("real,fake", "real,fakes"));
    assert!(e.contains("line 7") && e.contains("fakes"), "{e}");
    let e = err(&GOOD.replace("{js_grid}", "{jsgrid}"));
    assert!(e.contains("jsgrid"), "{e}");
    let e = err(&GOOD.replace("fraction = 0.5", "fraction = 0.5\nsteps = 500"));
    assert!(e.contains("line 17") && e.contains("past its segment"), "{e}");
    let e = err(&GOOD.replace("metric = \"js_grid\"", "metric = \"jsgrid\""));
    assert!(e.contains("unknown metric `jsgrid`"), "{e}");
    // No start, an unknown preset, broken TOML.
    let e = err(&GOOD.replace("preset = \"oscillation\"\n", ""));
    assert!(e.contains("starts from a preset"), "{e}");
    let e = err(&GOOD.replace("\"oscillation\"", "\"oscilation\""));
    assert!(e.contains("oscilation"), "{e}");
    let e = err(&GOOD.replace("steps = 600", "steps = "));
    assert!(e.contains("line 5"), "{e}");
}

#[test]
fn share_strings_carry_the_lesson() {
    for l in all() {
        let s = share(&l);
        assert!(s.starts_with(SHARE_PREFIX));
        let back = unshare(&s).unwrap();
        assert_eq!((back.name.as_str(), back.cues.len(), back.steps), (l.name.as_str(), l.cues.len(), l.steps));
    }
    assert!(unshare("gs1:abc").unwrap_err().contains("gl1:"));
    assert!(unshare("gl2:abc").unwrap_err().contains("version"));
}

#[test]
fn every_shipped_lesson_tells_its_story_on_five_seeds() {
    let lessons = all();
    assert!(lessons.len() >= 4);
    for l in lessons {
        assert!(l.seeds.len() >= 5, "{}: promises on fewer than five seeds", l.name);
        assert!(l.cues.iter().filter(|c| c.caption.is_some()).count() >= 2, "{}: a lesson speaks", l.name);
        // Every segment with something to say keeps a promise.
        for c in &l.cues {
            assert!(
                c.set.is_empty() || !c.promise.is_empty(),
                "{}: the cue at step {} changes a knob and promises nothing",
                l.name,
                c.step
            );
        }
    }
}
